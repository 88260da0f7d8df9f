package dev.rkmod.cli;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;

/** JSON rendering settings shared by the commands. */
final class Json {
    static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().serializeNulls().create();

    private Json() {
    }

    /**
     * A command's result record as JSON: keys are the record's components in declaration order, nulls are
     * kept, nested records and lists become objects and arrays (gson 2.10+ reads records natively).
     */
    static JsonElement fromRecord(Object result) {
        if (result == null || !result.getClass().isRecord()) {
            throw new IllegalArgumentException("not a record: " + result);
        }
        return GSON.toJsonTree(result);
    }
}
