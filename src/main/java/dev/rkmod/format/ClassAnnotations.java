package dev.rkmod.format;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The runtime-visible annotations of a Java class file (JVMS §4.7.16), read from its bytes: those of the class, of
 * each field (with the field's descriptor and generic signature) and of each method. The command-line short path
 * reads picocli's annotations this way because {@code Field.getAnnotation} makes the JVM spin a proxy class per
 * annotation type, about 25 ms in a fresh JVM. Every read is bounds-checked; a bad file is a {@link FormatException}.
 *
 * <p>Element values are kept as: {@link String} for strings, {@link Integer}, {@link Long}, {@link Boolean},
 * {@link Character}, {@link Float} or {@link Double} for constants, {@link EnumValue}, {@link ClassValue}, a nested
 * {@link Annotation}, and {@link List} for arrays.
 */
public final class ClassAnnotations {
    /** One annotation: its type (a descriptor such as {@code Lpicocli/CommandLine$Option;}) and its explicit values. */
    public record Annotation(String type, Map<String, Object> values) { }

    /** An enum constant as an element value. */
    public record EnumValue(String type, String name) { }

    /** A class literal as an element value (its descriptor). */
    public record ClassValue(String descriptor) { }

    /** A field or method: name, descriptor, generic signature (null if none) and annotations. */
    public record Member(String name, String descriptor, String signature, List<Annotation> annotations) { }

    private final String name;
    private final String superName;
    private final List<Annotation> annotations;
    private final List<Member> fields;
    private final List<Member> methods;

    private ClassAnnotations(String name, String superName, List<Annotation> annotations, List<Member> fields,
                             List<Member> methods) {
        this.name = name;
        this.superName = superName;
        this.annotations = annotations;
        this.fields = fields;
        this.methods = methods;
    }

    /** The class's internal name, e.g. {@code dev/rkmod/cli/BuildCommand}. */
    public String name() {
        return name;
    }

    /** The superclass's internal name ({@code null} for java.lang.Object itself). */
    public String superName() {
        return superName;
    }

    public List<Annotation> annotations() {
        return annotations;
    }

    public List<Member> fields() {
        return fields;
    }

    public List<Member> methods() {
        return methods;
    }

    /** Reads a class file. {@code label} names it in errors. */
    public static ClassAnnotations read(byte[] data, String label) {
        return new Reader(data, label).classFile();
    }

    private static final class Reader {
        private final byte[] d;
        private final String label;
        private int pos;
        private int[] cpOffset;
        private byte[] cpTag;

        Reader(byte[] data, String label) {
            this.d = data;
            this.label = label;
        }

        ClassAnnotations classFile() {
            if (d.length < 10 || u4() != 0xCAFEBABEL) {
                throw new FormatException(FormatException.Reason.BAD_MAGIC, label + " is not a Java class file",
                        "It does not start with 0xCAFEBABE", "Rebuild rkmod's jar");
            }
            u2();
            int major = u2();
            if (major < 45 || major > 70) {
                throw bad("class file version " + major + " is not one this reader knows");
            }
            constantPool();
            u2(); // access flags
            String self = className(u2());
            int superIndex = u2();
            String superName = superIndex == 0 ? null : className(superIndex);
            skip(2 * u2()); // interfaces
            List<Member> fields = members();
            List<Member> methods = members();
            List<Annotation> annotations = new ArrayList<>();
            attributes(annotations, null);
            if (pos != d.length) {
                throw bad("it has " + (d.length - pos) + " bytes after its last attribute");
            }
            return new ClassAnnotations(self, superName, List.copyOf(annotations), fields, methods);
        }

        private void constantPool() {
            int count = u2();
            cpOffset = new int[count];
            cpTag = new byte[count];
            for (int i = 1; i < count; i++) {
                int tag = u1();
                cpTag[i] = (byte) tag;
                cpOffset[i] = pos;
                switch (tag) {
                    case 1 -> skip(u2());
                    case 3, 4, 9, 10, 11, 12, 17, 18 -> skip(4);
                    case 5, 6 -> {
                        skip(8);
                        i++; // a long or double takes two entries
                    }
                    case 7, 8, 16, 19, 20 -> skip(2);
                    case 15 -> skip(3);
                    default -> throw bad("constant pool entry " + i + " has the unknown tag " + tag);
                }
            }
        }

        private List<Member> members() {
            int count = u2();
            List<Member> out = new ArrayList<>(Math.min(count, 1024));
            for (int i = 0; i < count; i++) {
                u2(); // access flags
                String memberName = utf8(u2());
                String descriptor = utf8(u2());
                List<Annotation> annotations = new ArrayList<>();
                String[] signature = new String[1];
                attributes(annotations, signature);
                out.add(new Member(memberName, descriptor, signature[0], List.copyOf(annotations)));
            }
            return List.copyOf(out);
        }

        /** Reads an attribute table, keeping RuntimeVisibleAnnotations and (when asked) the Signature. */
        private void attributes(List<Annotation> annotations, String[] signature) {
            int count = u2();
            for (int i = 0; i < count; i++) {
                String attr = utf8(u2());
                long length = u4();
                if (length > d.length - pos) {
                    throw truncated("attribute " + attr);
                }
                int end = pos + (int) length;
                if (attr.equals("RuntimeVisibleAnnotations")) {
                    int n = u2();
                    for (int k = 0; k < n; k++) {
                        annotations.add(annotation(0));
                    }
                    if (pos != end) {
                        throw bad("its " + attr + " attribute is " + length + " bytes long but holds " + (pos - end + length));
                    }
                } else if (attr.equals("Signature") && signature != null) {
                    signature[0] = utf8(u2());
                }
                pos = end;
            }
        }

        private Annotation annotation(int depth) {
            if (depth > 32) {
                throw bad("annotations are nested deeper than 32");
            }
            String type = utf8(u2());
            int pairs = u2();
            Map<String, Object> values = new LinkedHashMap<>();
            for (int i = 0; i < pairs; i++) {
                values.put(utf8(u2()), elementValue(depth));
            }
            return new Annotation(type, values);
        }

        private Object elementValue(int depth) {
            int tag = u1();
            return switch (tag) {
                case 's' -> utf8(u2());
                case 'I', 'S', 'B' -> constInt(u2());
                case 'C' -> (char) constInt(u2()).intValue();
                case 'Z' -> constInt(u2()) != 0;
                case 'J' -> constLong(u2(), 5);
                case 'D' -> Double.longBitsToDouble(constLong(u2(), 6));
                case 'F' -> Float.intBitsToFloat(constant(u2(), 4, 4));
                case 'e' -> new EnumValue(utf8(u2()), utf8(u2()));
                case 'c' -> new ClassValue(utf8(u2()));
                case '@' -> annotation(depth + 1);
                case '[' -> {
                    int n = u2();
                    List<Object> items = new ArrayList<>(Math.min(n, 256));
                    for (int i = 0; i < n; i++) {
                        items.add(elementValue(depth + 1));
                    }
                    yield List.copyOf(items);
                }
                default -> throw bad("an annotation value has the unknown tag " + tag);
            };
        }

        private Integer constInt(int index) {
            return constant(index, 3, 4);
        }

        private int constant(int index, int tag, int size) {
            int at = entry(index, tag);
            if (at + size > d.length) {
                throw truncated("constant " + index);
            }
            return ((d[at] & 0xFF) << 24) | ((d[at + 1] & 0xFF) << 16) | ((d[at + 2] & 0xFF) << 8) | (d[at + 3] & 0xFF);
        }

        private long constLong(int index, int tag) {
            int at = entry(index, tag);
            if (at + 8 > d.length) {
                throw truncated("constant " + index);
            }
            long v = 0;
            for (int i = 0; i < 8; i++) {
                v = (v << 8) | (d[at + i] & 0xFF);
            }
            return v;
        }

        private String className(int index) {
            return utf8(u2at(entry(index, 7)));
        }

        private String utf8(int index) {
            int at = entry(index, 1);
            int len = u2at(at);
            if (at + 2 + len > d.length) {
                throw truncated("constant " + index);
            }
            try {
                return new DataInputStream(new ByteArrayInputStream(d, at, 2 + len)).readUTF();
            } catch (IOException e) {
                throw bad("constant " + index + " is not valid modified UTF-8");
            }
        }

        private int entry(int index, int tag) {
            if (index <= 0 || index >= cpTag.length || cpTag[index] != tag) {
                throw bad("it refers to constant " + index + ", which is not a constant of kind " + tag);
            }
            return cpOffset[index];
        }

        private int u2at(int at) {
            if (at + 2 > d.length) {
                throw truncated("offset " + at);
            }
            return ((d[at] & 0xFF) << 8) | (d[at + 1] & 0xFF);
        }

        private int u1() {
            if (pos >= d.length) {
                throw truncated("offset " + pos);
            }
            return d[pos++] & 0xFF;
        }

        private int u2() {
            int v = u2at(pos);
            pos += 2;
            return v;
        }

        private long u4() {
            if (pos + 4 > d.length) {
                throw truncated("offset " + pos);
            }
            long v = ((long) (d[pos] & 0xFF) << 24) | ((d[pos + 1] & 0xFF) << 16) | ((d[pos + 2] & 0xFF) << 8)
                    | (d[pos + 3] & 0xFF);
            pos += 4;
            return v;
        }

        private void skip(int n) {
            if (n > d.length - pos) {
                throw truncated("offset " + pos);
            }
            pos += n;
        }

        private FormatException truncated(String where) {
            return new FormatException(FormatException.Reason.TRUNCATED, label + " is cut short at " + where,
                    "The class file ends before the structure it declares", "Rebuild rkmod's jar");
        }

        private FormatException bad(String why) {
            return new FormatException(FormatException.Reason.CORRUPT, label + " is not a valid class file",
                    "Its structure is malformed: " + why, "Rebuild rkmod's jar");
        }
    }
}
