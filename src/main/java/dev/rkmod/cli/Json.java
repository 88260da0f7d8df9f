package dev.rkmod.cli;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;

/** JSON rendering settings shared by the commands. */
final class Json {
    static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().serializeNulls().create();

    private Json() {
    }
}
