package dev.rkmod.cli;

import dev.rkmod.format.ClassAnnotations;
import dev.rkmod.format.ClassAnnotations.Annotation;
import dev.rkmod.format.ClassAnnotations.Member;
import dev.rkmod.model.RkmodException;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Field;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * The command line of a plain leaf command ({@code rkmod build DIR --kdir K}, {@code rkmod vmtest M.ko --kvm off},
 * ...) parsed without building picocli's model, which costs about 45 ms of every start even with the class-data
 * archive (picocli reflects over every annotation, and the JVM spins a proxy class per annotation type).
 *
 * <p>It reads the same picocli annotations, from the command's class file ({@link ClassAnnotations}), and binds the
 * arguments only when they are unambiguous: known option names, values that convert plainly, positionals in their
 * declared arity. Anything else, such as {@code --help}, an unknown or repeated option, a value that starts with
 * '-', an {@code @file}, a converter, a type it does not know, or a command with subcommands or a {@code @Spec},
 * gives {@code null}, and picocli parses the command line as always: its errors and messages are the only ones.
 * {@code FastArgsTest} binds sample command lines of every command both ways and compares the fields.
 */
final class FastArgs {
    private static final String OPTION = "Lpicocli/CommandLine$Option;";
    private static final String PARAMETERS = "Lpicocli/CommandLine$Parameters;";
    private static final String MIXIN = "Lpicocli/CommandLine$Mixin;";
    private static final String COMMAND = "Lpicocli/CommandLine$Command;";
    private static final String NO_DEFAULT = "__no_default_value__";
    /** Option attributes that do not change how a value binds. */
    private static final Set<String> OPTION_KEYS = Set.of("names", "description", "paramLabel", "defaultValue",
            "hidden", "showDefaultValue", "order", "descriptionKey", "arity", "required");
    private static final Set<String> PARAMETER_KEYS = Set.of("index", "arity", "description", "paramLabel",
            "defaultValue", "hidden", "showDefaultValue", "descriptionKey");

    private FastArgs() {
    }

    /** Not a command line this parser binds: picocli parses it. */
    static final class Declined extends Exception {
        private static final long serialVersionUID = 1L;

        Declined() {
            super(null, null, false, false);
        }
    }

    private static final Declined DECLINED = new Declined();

    /** An option or positional parameter and the object whose field it sets. */
    private record Arg(Object owner, Field field, List<String> names, String arity, String index, String defaultValue,
                       boolean list, Class<?> element, boolean required) {
        boolean flag() {
            return field.getType() == boolean.class || field.getType() == Boolean.class;
        }
    }

    /**
     * Runs {@code args} when this parser binds them: the command's exit code, or null to let picocli parse them.
     */
    static Integer run(Session session, String[] args) {
        Object command = bind(session, args);
        if (!(command instanceof Callable<?> callable)) {
            return null;
        }
        boolean debug = false;
        boolean json = false;
        for (String a : args) {
            debug |= a.equals("--debug");
            json |= a.equals("--json");
        }
        try {
            Object result = callable.call();
            return result instanceof Integer i ? i : 0;
        } catch (Exception e) {
            return Cli.failed(session, json, debug, e);
        }
    }

    /** The command object with its fields bound from {@code args}, or null when picocli must parse them. */
    static Object bind(Session session, String[] args) {
        if (args.length == 0 || !RkmodCommand.SUBCOMMANDS.containsKey(args[0]) || args[0].equals("help")) {
            return null;
        }
        try {
            Class<?> cls = RkmodCommand.subcommand(args[0]);
            Object command = instantiate(session, cls);
            List<Arg> options = new ArrayList<>();
            List<Arg> positionals = new ArrayList<>();
            collect(command, cls, true, options, positionals);
            bind(args, options, positionals);
            return command;
        } catch (Declined d) {
            return null;
        } catch (Exception e) {
            return null; // whatever went wrong here, picocli's own parse reports it properly
        }
    }

    /**
     * The command object, made as Cli's picocli factory makes it (the constructor taking the session, else the one
     * without parameters), without that factory: it would initialise picocli's CommandLine class, 13 ms.
     */
    private static Object instantiate(Session session, Class<?> cls) throws ReflectiveOperationException {
        try {
            java.lang.reflect.Constructor<?> c = cls.getDeclaredConstructor(Session.class);
            c.setAccessible(true);
            return c.newInstance(session);
        } catch (NoSuchMethodException e) {
            java.lang.reflect.Constructor<?> c = cls.getDeclaredConstructor();
            c.setAccessible(true);
            return c.newInstance();
        }
    }

    private static void collect(Object owner, Class<?> cls, boolean top, List<Arg> options, List<Arg> positionals)
            throws Declined, ReflectiveOperationException {
        ClassAnnotations ca = read(cls);
        if (!"java/lang/Object".equals(ca.superName())) {
            throw DECLINED;
        }
        for (Annotation a : ca.annotations()) {
            if (a.type().equals(COMMAND) && (a.values().containsKey("subcommands") || !top)) {
                throw DECLINED;
            }
        }
        for (Member m : ca.methods()) {
            // plain loops, no lambdas or streams here: each lambda's call site is linked at its first use, about 1 ms
            // in a fresh JVM, which is what this class exists to save
            for (Annotation a : m.annotations()) {
                if (a.type().startsWith("Lpicocli/")) {
                    throw DECLINED;
                }
            }
        }
        for (Member m : ca.fields()) {
            for (Annotation a : m.annotations()) {
                if (!a.type().startsWith("Lpicocli/")) {
                    continue;
                }
                Field f = cls.getDeclaredField(m.name());
                f.setAccessible(true);
                switch (a.type()) {
                    case MIXIN -> {
                        Object mixin = f.get(owner);
                        if (mixin == null) {
                            throw DECLINED;
                        }
                        collect(mixin, f.getType(), false, options, positionals);
                    }
                    case OPTION -> options.add(arg(owner, f, m, a, OPTION_KEYS));
                    case PARAMETERS -> positionals.add(arg(owner, f, m, a, PARAMETER_KEYS));
                    default -> throw DECLINED; // @Spec, @ArgGroup, @Unmatched, @ParentCommand...
                }
            }
        }
    }

    private static ClassAnnotations read(Class<?> cls) throws Declined {
        String file = cls.getName().substring(cls.getName().lastIndexOf('.') + 1) + ".class";
        try {
            byte[] bytes = fromJar(cls);
            if (bytes == null) {
                try (InputStream in = cls.getResourceAsStream(file)) { // classes in a directory (the tests)
                    if (in == null) {
                        throw DECLINED;
                    }
                    bytes = in.readAllBytes();
                }
            }
            return ClassAnnotations.read(bytes, file);
        } catch (IOException | RkmodException e) {
            throw DECLINED;
        }
    }

    /**
     * The class file from the jar the class was loaded from, through one ZipFile kept for the run: a fifth of what
     * getResourceAsStream costs (a jar: URL and its connection) in a fresh JVM. Null when the class is not in a jar.
     */
    private static byte[] fromJar(Class<?> cls) throws IOException {
        java.security.CodeSource source = cls.getProtectionDomain().getCodeSource();
        if (source == null || source.getLocation() == null || !"file".equals(source.getLocation().getProtocol())
                || !source.getLocation().getPath().endsWith(".jar")) {
            return null;
        }
        synchronized (FastArgs.class) {
            if (jar == null) {
                jar = new java.util.zip.ZipFile(new java.io.File(java.net.URLDecoder.decode(source.getLocation().getPath(),
                        java.nio.charset.StandardCharsets.UTF_8)));
            }
            java.util.zip.ZipEntry e = jar.getEntry(cls.getName().replace('.', '/') + ".class");
            if (e == null) {
                return null;
            }
            try (InputStream in = jar.getInputStream(e)) {
                return in.readAllBytes();
            }
        }
    }

    /** rkmod's jar, opened once per run when a command line is bound; the JVM closes it at exit. */
    private static java.util.zip.ZipFile jar;

    private static Arg arg(Object owner, Field f, Member m, Annotation a, Set<String> known) throws Declined {
        if (!known.containsAll(a.values().keySet())) {
            throw DECLINED;
        }
        List<String> names = new ArrayList<>();
        if (a.values().get("names") instanceof List<?> l) {
            for (Object n : l) {
                names.add((String) n);
            }
        }
        boolean list = f.getType() == List.class;
        Class<?> element = list ? listElement(m.signature()) : f.getType();
        if (element == null || !(element == String.class || element == Path.class || element == int.class
                || element == Integer.class || element == long.class || element == Long.class
                || element == double.class || element == boolean.class || element == Boolean.class || element.isEnum())) {
            throw DECLINED;
        }
        String defaultValue = (String) a.values().getOrDefault("defaultValue", NO_DEFAULT);
        if (defaultValue.contains("${")) {
            throw DECLINED;
        }
        return new Arg(owner, f, names, (String) a.values().get("arity"), (String) a.values().get("index"),
                defaultValue.equals(NO_DEFAULT) ? null : defaultValue, list, element,
                Boolean.TRUE.equals(a.values().get("required")));
    }

    private static Class<?> listElement(String signature) {
        if ("Ljava/util/List<Ljava/lang/String;>;".equals(signature)) {
            return String.class;
        }
        if ("Ljava/util/List<Ljava/nio/file/Path;>;".equals(signature)) {
            return Path.class;
        }
        return null;
    }

    private static void bind(String[] args, List<Arg> options, List<Arg> positionals)
            throws Declined, ReflectiveOperationException {
        Map<String, Arg> byName = new HashMap<>();
        for (Arg o : options) {
            String arity = o.arity();
            if (arity != null && !(o.flag() ? arity.equals("0") : arity.equals("1"))) {
                throw DECLINED;
            }
            for (String n : o.names()) {
                if (n.equals("-h") || n.equals("--help") || n.equals("-V") || n.equals("--version")
                        || byName.put(n, o) != null) {
                    throw DECLINED;
                }
            }
        }
        // by identity: a record's equals and hashCode are bootstrapped through method handles, 25 ms in a fresh JVM
        Set<Arg> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        Map<Arg, List<Object>> lists = new IdentityHashMap<>();
        List<String> operands = new ArrayList<>();
        boolean endOfOptions = false;
        for (int i = 1; i < args.length; i++) {
            String a = args[i];
            if (a.isEmpty() || a.startsWith("@")) {
                throw DECLINED;
            }
            if (endOfOptions || !a.startsWith("-")) {
                operands.add(a);
                continue;
            }
            if (a.equals("--")) {
                endOfOptions = true;
                continue;
            }
            String name = a;
            String value = null;
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 2) {
                name = a.substring(0, eq);
                value = a.substring(eq + 1);
            }
            Arg o = byName.get(name);
            if (o == null) {
                throw DECLINED; // unknown, clustered (-qv), attached (-j4), --help, --version...
            }
            if (!seen.add(o) && !o.list()) {
                throw DECLINED; // picocli says it may be given once
            }
            if (o.flag()) {
                if (value != null) {
                    throw DECLINED;
                }
                o.field().set(o.owner(), true);
                continue;
            }
            if (value == null) {
                if (i + 1 >= args.length) {
                    throw DECLINED;
                }
                value = args[++i];
            }
            if (value.isEmpty() || value.startsWith("-") || value.startsWith("@")) {
                throw DECLINED;
            }
            Object v = convert(o.element(), value);
            if (o.list()) {
                List<Object> values = lists.get(o);
                if (values == null) {
                    values = new ArrayList<>();
                    lists.put(o, values);
                }
                values.add(v);
            } else {
                o.field().set(o.owner(), v);
            }
        }
        for (Arg o : options) {
            if (o.required() && !seen.contains(o)) {
                throw DECLINED; // picocli names the missing option
            }
            if (o.list() && lists.containsKey(o)) {
                o.field().set(o.owner(), new ArrayList<>(lists.get(o)));
            } else if (!seen.contains(o) && o.defaultValue() != null) {
                if (o.list()) {
                    throw DECLINED;
                }
                o.field().set(o.owner(), convert(o.element(), o.defaultValue()));
            }
        }
        positionals(operands, positionals);
    }

    /** Binds operands: one parameter taking them all, or single parameters at indexes 0, 1, ... */
    private static void positionals(List<String> operands, List<Arg> params) throws Declined, ReflectiveOperationException {
        if (params.isEmpty()) {
            if (!operands.isEmpty()) {
                throw DECLINED;
            }
            return;
        }
        if (params.size() == 1 && params.get(0).list()) {
            Arg p = params.get(0);
            if (p.index() != null && !p.index().equals("0..*") || p.defaultValue() != null) {
                throw DECLINED;
            }
            String arity = p.arity() == null ? "0..*" : p.arity();
            if (!(arity.equals("0..*") || arity.equals("1..*")) || arity.equals("1..*") && operands.isEmpty()) {
                throw DECLINED;
            }
            List<Object> values = new ArrayList<>();
            for (String s : operands) {
                values.add(convert(p.element(), s));
            }
            p.field().set(p.owner(), values);
            return;
        }
        Arg[] byIndex = new Arg[params.size()];
        for (Arg p : params) {
            if (p.list() || p.index() == null || !p.index().matches("[0-9]") || p.flag()) {
                throw DECLINED;
            }
            int i = Integer.parseInt(p.index());
            String arity = p.arity() == null ? "1" : p.arity();
            if (i >= byIndex.length || byIndex[i] != null || !(arity.equals("1") || arity.equals("0..1"))) {
                throw DECLINED;
            }
            byIndex[i] = p;
        }
        if (operands.size() > byIndex.length) {
            throw DECLINED;
        }
        for (int i = 0; i < byIndex.length; i++) {
            Arg p = byIndex[i];
            boolean optional = "0..1".equals(p.arity());
            if (i < operands.size()) {
                p.field().set(p.owner(), convert(p.element(), operands.get(i)));
            } else if (!optional) {
                throw DECLINED; // picocli reports the missing parameter
            } else if (p.defaultValue() != null) {
                p.field().set(p.owner(), convert(p.element(), p.defaultValue()));
            }
        }
    }

    private static Object convert(Class<?> type, String value) throws Declined {
        try {
            if (type == String.class) {
                return value;
            }
            if (type == Path.class) {
                return Path.of(value);
            }
            if (type == int.class || type == Integer.class) {
                return digits(value, 0, value.length()) ? Integer.valueOf(value) : decline();
            }
            if (type == long.class || type == Long.class) {
                return digits(value, 0, value.length()) ? Long.valueOf(value) : decline();
            }
            if (type == double.class) {
                int dot = value.indexOf('.');
                boolean plain = dot < 0 ? digits(value, 0, value.length())
                        : digits(value, 0, dot) && digits(value, dot + 1, value.length());
                return plain ? Double.valueOf(value) : decline();
            }
            if (type.isEnum()) {
                Object match = null;
                for (Object c : type.getEnumConstants()) {
                    if (((Enum<?>) c).name().equalsIgnoreCase(value)) {
                        if (match != null) {
                            throw DECLINED;
                        }
                        match = c;
                    }
                }
                return match != null ? match : decline();
            }
        } catch (InvalidPathException e) {
            throw DECLINED;
        }
        throw DECLINED;
    }

    /** 1 to 9 ASCII digits in {@code s[from, to)}: what both parsers read the same way. */
    private static boolean digits(String s, int from, int to) {
        if (to - from < 1 || to - from > 9) {
            return false;
        }
        for (int i = from; i < to; i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }

    private static Object decline() throws Declined {
        throw DECLINED;
    }
}
