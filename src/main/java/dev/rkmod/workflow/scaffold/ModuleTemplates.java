package dev.rkmod.workflow.scaffold;

import dev.rkmod.model.ExitCode;
import dev.rkmod.model.KernelGeneration;
import dev.rkmod.model.RkmodException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * Module sources from the one module template ({@code module.rs}), filled in with the few snippets of a module-API
 * syntax of the generation table, then with the module's name, type, description and author.
 */
public final class ModuleTemplates {
    /** A valid Rust identifier that is also a valid kernel module name. */
    private static final Pattern MODULE_NAME = Pattern.compile("[a-z][a-z0-9_]{0,54}");
    private static final String MODULE_TEMPLATE = "module.rs";

    private ModuleTemplates() {
    }

    public static String resource(String name) {
        try (InputStream in = ModuleTemplates.class.getResourceAsStream("/dev/rkmod/templates/" + name)) {
            if (in == null) {
                throw new IllegalStateException("template missing: " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Fails (usage error) unless {@code name} is a Rust identifier and a kernel module name. */
    public static void checkModuleName(String name) {
        if (!MODULE_NAME.matcher(name).matches()) {
            throw new RkmodException(ExitCode.USAGE, "'" + name + "' is not a valid module name",
                    "A module name must be a Rust identifier and a kernel module name: lower-case letters, digits and"
                            + " underscores, starting with a letter, at most 55 characters",
                    "Use a name such as rust_out_of_tree");
        }
    }

    /** The Rust source of a module named {@code name} for this syntax. */
    public static String rust(KernelGeneration.ModuleSyntax syntax, String name, String description, String author) {
        checkModuleName(name);
        return resource(MODULE_TEMPLATE)
                .replace("@API@", syntax.api())
                .replace("@NAME_VALUE@", syntax.string("@NAME@"))
                .replace("@AUTHOR_FIELD@", syntax.authorField("@AUTHOR@"))
                .replace("@DESCRIPTION_VALUE@", syntax.string("@DESCRIPTION@"))
                .replace("@LICENSE_VALUE@", syntax.string("GPL"))
                .replace("@VEC@", syntax.vec())
                .replace("@PUSH@", syntax.push())
                .replace("@NAME@", name)
                .replace("@TYPE@", typeName(name))
                .replace("@DESCRIPTION@", escape(description))
                .replace("@AUTHOR@", escape(author));
    }

    /** rust_out_of_tree -> RustOutOfTree. */
    public static String typeName(String name) {
        StringBuilder sb = new StringBuilder();
        for (String part : name.split("_")) {
            if (!part.isEmpty()) {
                sb.append(Character.toUpperCase(part.charAt(0))).append(part.substring(1));
            }
        }
        return sb.isEmpty() ? "Module" : sb.toString();
    }

    private static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", " ");
    }
}
