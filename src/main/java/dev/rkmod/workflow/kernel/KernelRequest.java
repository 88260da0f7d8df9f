package dev.rkmod.workflow.kernel;

import dev.rkmod.model.Profile;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** What the user asked `rkmod kernel config|build` for. */
public record KernelRequest(Optional<Path> source, Optional<Profile> profile, BaseConfig base, List<Path> fragments,
                            boolean fixRust, Optional<Path> rustc, Optional<Path> root, int jobs, Duration timeout) {
}
