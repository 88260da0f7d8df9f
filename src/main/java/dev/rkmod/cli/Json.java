package dev.rkmod.cli;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * JSON rendering shared by the commands: a command describes its result as a record and prints
 * {@link #write(Object)}. One serializer, {@link #fromRecord(Object)}, turns it into JSON.
 */
final class Json {
    static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().serializeNulls().create();

    /**
     * On a record component: the components of its value (a record, or an Optional of one) are written in its place,
     * not under its name; an empty Optional writes none.
     */
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.RECORD_COMPONENT)
    @interface Inline {
    }

    private Json() {
    }

    /** The value as pretty-printed JSON, as the commands print it. */
    static String write(Object value) {
        return GSON.toJson(fromRecord(value));
    }

    /**
     * A value as JSON. A record is an object whose keys are its component names in component order; a
     * component holding an empty {@link Optional} is left out, one holding null is written as null. Lists (any
     * {@link Iterable}) are arrays; maps are objects in their iteration order; an {@link Optional} elsewhere is its
     * value or null; enums are their lower-case names; paths their strings; strings, numbers and booleans
     * themselves. A {@link JsonElement} is taken as it is. Anything else is a programming error.
     */
    static JsonElement fromRecord(Object value) {
        if (value == null) {
            return JsonNull.INSTANCE;
        }
        if (value instanceof JsonElement e) {
            return e;
        }
        if (value instanceof String || value instanceof Character) {
            return new JsonPrimitive(value.toString());
        }
        if (value instanceof Number n) {
            return new JsonPrimitive(n);
        }
        if (value instanceof Boolean b) {
            return new JsonPrimitive(b);
        }
        if (value instanceof Enum<?> e) {
            return new JsonPrimitive(e.name().toLowerCase(Locale.ROOT));
        }
        if (value instanceof Path p) {
            return new JsonPrimitive(p.toString());
        }
        if (value instanceof Optional<?> o) {
            return o.isPresent() ? fromRecord(o.get()) : JsonNull.INSTANCE;
        }
        if (value instanceof Record r) {
            return object(r);
        }
        if (value instanceof Map<?, ?> m) {
            JsonObject o = new JsonObject();
            m.forEach((k, v) -> o.add(String.valueOf(k), fromRecord(v)));
            return o;
        }
        if (value instanceof Iterable<?> it) {
            JsonArray a = new JsonArray();
            it.forEach(v -> a.add(fromRecord(v)));
            return a;
        }
        throw new IllegalArgumentException("No JSON form for " + value.getClass().getName()
                + "; describe it in the result record with a string, number, boolean, list, map or record");
    }

    private static JsonObject object(Record r) {
        JsonObject o = new JsonObject();
        for (RecordComponent c : r.getClass().getRecordComponents()) {
            Object v = get(r, c.getAccessor());
            if (v instanceof Optional<?> opt && opt.isEmpty()) {
                continue;
            }
            if (c.isAnnotationPresent(Inline.class)) {
                if (v instanceof Optional<?> opt) {
                    v = opt.get();
                }
                if (!(v instanceof Record inner)) {
                    throw new IllegalArgumentException(c + " is @Inline but holds no record");
                }
                object(inner).entrySet().forEach(e -> o.add(e.getKey(), e.getValue()));
            } else {
                o.add(c.getName(), fromRecord(v));
            }
        }
        return o;
    }

    private static Object get(Record r, Method accessor) {
        try {
            accessor.setAccessible(true);
            return accessor.invoke(r);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("Cannot read " + accessor, e);
        } catch (InvocationTargetException e) {
            throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
        }
    }
}
