package dev.rkmod.format;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A bounds-checked reader of ELF32/ELF64 section headers and contents, as kernel modules need, and of the program
 * headers (segments), as executables have them. Every count and offset is read as unsigned; extended section
 * numbering ({@code e_shnum == 0}, {@code e_shstrndx == SHN_XINDEX}, {@code e_phnum == PN_XNUM}) is handled; any
 * read outside the file is a {@link FormatException}.
 */
public final class ElfFile {
    private static final int SHN_XINDEX = 0xFFFF;
    private static final int SHN_UNDEF = 0;
    private static final int PN_XNUM = 0xFFFF;
    /** e_type of a relocatable object (a .o, a kernel module). */
    public static final int ET_REL = 1;
    /** e_type of an executable linked at a fixed address. */
    public static final int ET_EXEC = 2;
    /** e_type of a position-independent executable or a shared library. */
    public static final int ET_DYN = 3;
    /** e_machine of x86-64. */
    public static final int EM_X86_64 = 62;
    /** p_type of the segment naming the program interpreter (the dynamic loader). */
    public static final long PT_INTERP = 3;

    /** One program header: a segment's type, where its bytes are in the file and how many. */
    public record Segment(long type, long offset, long fileSize) { }

    /** One section header. */
    public record Section(int index, String name, long type, long flags, long offset, long size, long link, long entsize) { }

    /**
     * Where an ELF file's bytes come from: memory, or an open file read at offsets, so that only the headers and the
     * sections asked for are read. An I/O error is an {@link UncheckedIOException}.
     */
    public interface Source {
        long length();

        /** Fills {@code dst} from {@code offset}; the caller has checked the range. */
        void read(long offset, byte[] dst);

        static Source of(ByteBuffer buffer) {
            ByteBuffer b = buffer.duplicate();
            return new Source() {
                @Override
                public long length() {
                    return b.limit();
                }

                @Override
                public void read(long offset, byte[] dst) {
                    b.get((int) offset, dst);
                }
            };
        }

        /** The file as it is read by seeks and reads: two system calls per table or section, no mapping. */
        static Source of(RandomAccessFile file) throws IOException {
            long size = file.length();
            return new Source() {
                @Override
                public long length() {
                    return size;
                }

                @Override
                public void read(long offset, byte[] dst) {
                    try {
                        file.seek(offset);
                        file.readFully(dst);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }
            };
        }
    }

    private final Source data;
    private final byte[] hdr;
    private final int length;
    private final boolean is64;
    private final ByteOrder order;
    private final int type;
    private final int machine;
    private final List<Section> sections;
    /** The program headers, read when first asked for. */
    private List<Segment> segments;

    private ElfFile(Source source, int length) {
        this.data = source;
        this.length = length;
        if (length < 16) {
            throw truncated("the ELF identification");
        }
        hdr = new byte[Math.min(64, length)];
        data.read(0, hdr);
        if (hdr[0] != 0x7F || hdr[1] != 'E' || hdr[2] != 'L' || hdr[3] != 'F') {
            throw new FormatException(FormatException.Reason.BAD_MAGIC, "Not an ELF file",
                    "It does not start with 0x7F 'E' 'L' 'F'", "Pass a kernel module (.ko)");
        }
        int cls = hdr[4];
        if (cls != 1 && cls != 2) {
            throw corrupt("EI_CLASS is " + cls);
        }
        is64 = cls == 2;
        int enc = hdr[5];
        if (enc != 1 && enc != 2) {
            throw corrupt("EI_DATA is " + enc);
        }
        order = enc == 1 ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN;
        int ehsize = is64 ? 64 : 52;
        if (length < ehsize) {
            throw truncated("the ELF header");
        }
        type = u16(16);
        machine = u16(18);
        long shoff = is64 ? u64(0x28) : u32(0x20);
        int shentsize = u16(is64 ? 0x3A : 0x2E);
        long shnum = u16(is64 ? 0x3C : 0x30);
        long shstrndx = u16(is64 ? 0x3E : 0x32);
        if (shoff == 0) {
            sections = List.of();
            return;
        }
        int minEnt = is64 ? 64 : 40;
        if (shentsize < minEnt) {
            throw corrupt("e_shentsize " + shentsize + " is smaller than a section header");
        }
        if (shnum == 0 || shstrndx == SHN_XINDEX) {
            // extended numbering: the real values live in section header 0
            check(shoff, shentsize, "section header 0");
            long s0size = is64 ? u64((int) shoff + 0x20) : u32((int) shoff + 0x14);
            long s0link = u32((int) shoff + (is64 ? 0x28 : 0x18));
            if (shnum == 0) {
                shnum = s0size;
            }
            if (shstrndx == SHN_XINDEX) {
                shstrndx = s0link;
            }
        }
        if (shnum > (length - shoff) / shentsize + 1 || shnum > 1_000_000) {
            throw truncated("the section header table (" + shnum + " entries)");
        }
        check(shoff, shnum * shentsize, "the section header table");
        // the table and the name table are copied out in one read each and decoded from the heap: a buffer read per
        // field and per name byte costs more than the rest of a module's parse
        byte[] sh = new byte[(int) (shnum * shentsize)];
        data.read(shoff, sh);
        List<long[]> raw = new ArrayList<>((int) shnum);
        for (int i = 0; i < shnum; i++) {
            int at = i * shentsize;
            long name = field(sh, at, 4);
            long stype = field(sh, at + 4, 4);
            long flags = is64 ? field64(sh, at + 8) : field(sh, at + 8, 4);
            long off = is64 ? field64(sh, at + 0x18) : field(sh, at + 0x10, 4);
            long size = is64 ? field64(sh, at + 0x20) : field(sh, at + 0x14, 4);
            long link = field(sh, at + (is64 ? 0x28 : 0x18), 4);
            long entsize = is64 ? field64(sh, at + 0x38) : field(sh, at + 0x24, 4);
            raw.add(new long[] {name, stype, flags, off, size, link, entsize});
        }
        byte[] names = null;
        if (shstrndx != SHN_UNDEF) {
            if (shstrndx >= raw.size()) {
                throw corrupt("e_shstrndx " + shstrndx + " is past " + raw.size() + " sections");
            }
            long[] s = raw.get((int) shstrndx);
            check(s[3], s[4], "the section name table");
            names = new byte[(int) s[4]];
            data.read(s[3], names);
        }
        List<Section> list = new ArrayList<>(raw.size());
        for (int i = 0; i < raw.size(); i++) {
            long[] s = raw.get(i);
            String n = names != null ? name(names, s[0]) : "";
            list.add(new Section(i, n, s[1], s[2], s[3], s[4], s[5], s[6]));
        }
        sections = List.copyOf(list);
    }

    /** Parses the first {@code length} bytes of {@code data} (the rest, e.g. a signature, is ignored). */
    public static ElfFile parse(byte[] data, int length) {
        if (length < 0 || length > data.length) {
            throw new IllegalArgumentException("length");
        }
        return new ElfFile(Source.of(ByteBuffer.wrap(data)), length);
    }

    /**
     * Parses the first {@code length} bytes of a buffer, e.g. a mapped file: only the pages of the headers and of the
     * sections asked for are read.
     */
    public static ElfFile parse(ByteBuffer data, int length) {
        if (length < 0 || length > data.limit()) {
            throw new IllegalArgumentException("length");
        }
        return new ElfFile(Source.of(data), length);
    }

    /** Parses the first {@code length} bytes of a source, reading only the headers and the sections asked for. */
    public static ElfFile parse(Source data, int length) {
        if (length < 0 || length > data.length()) {
            throw new IllegalArgumentException("length");
        }
        return new ElfFile(data, length);
    }

    public static ElfFile parse(byte[] data) {
        return parse(data, data.length);
    }

    public boolean is64() {
        return is64;
    }

    public int type() {
        return type;
    }

    public int machine() {
        return machine;
    }

    public List<Section> sections() {
        return sections;
    }

    public Optional<Section> section(String name) {
        for (Section s : sections) {
            if (s.name().equals(name)) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }

    /** The program headers (segments); empty for a relocatable object, which has none. */
    public List<Segment> segments() {
        if (segments == null) {
            segments = readSegments();
        }
        return segments;
    }

    /** The program interpreter an executable names (PT_INTERP, e.g. /lib64/ld-linux-x86-64.so.2): a dynamically linked one. */
    public Optional<String> interpreter() {
        for (Segment s : segments()) {
            if (s.type() == PT_INTERP) {
                check(s.offset(), s.fileSize(), "the program interpreter's name");
                if (s.fileSize() > 4096) {
                    throw corrupt("the program interpreter's name is " + s.fileSize() + " bytes long");
                }
                byte[] b = new byte[(int) s.fileSize()];
                data.read(s.offset(), b);
                int end = 0;
                while (end < b.length && b[end] != 0) {
                    end++;
                }
                return Optional.of(new String(b, 0, end, StandardCharsets.UTF_8));
            }
        }
        return Optional.empty();
    }

    /** The name of an e_machine value, as the toolchains say it (x86-64, aarch64, ...), else "machine N". */
    public static String machineName(int machine) {
        return switch (machine) {
            case EM_X86_64 -> "x86-64";
            case 3 -> "i386";
            case 183 -> "aarch64";
            case 40 -> "arm";
            case 243 -> "riscv";
            case 258 -> "loongarch";
            case 21 -> "ppc64";
            case 20 -> "ppc";
            case 22 -> "s390";
            case 8 -> "mips";
            default -> "machine " + machine;
        };
    }

    private List<Segment> readSegments() {
        long phoff = is64 ? u64(0x20) : u32(0x1C);
        int phentsize = u16(is64 ? 0x36 : 0x2A);
        long phnum = u16(is64 ? 0x38 : 0x2C);
        if (phoff == 0 || phnum == 0) {
            return List.of();
        }
        if (phnum == PN_XNUM) {
            // extended numbering: the real count is sh_info of section header 0
            long shoff = is64 ? u64(0x28) : u32(0x20);
            check(shoff, is64 ? 64 : 40, "section header 0");
            phnum = u32((int) shoff + (is64 ? 0x2C : 0x1C));
        }
        int minEnt = is64 ? 56 : 32;
        if (phentsize < minEnt) {
            throw corrupt("e_phentsize " + phentsize + " is smaller than a program header");
        }
        if (phnum > (length - phoff) / phentsize + 1 || phnum > 65_536) {
            throw truncated("the program header table (" + phnum + " entries)");
        }
        check(phoff, phnum * phentsize, "the program header table");
        byte[] ph = new byte[(int) (phnum * phentsize)];
        data.read(phoff, ph);
        List<Segment> out = new ArrayList<>((int) phnum);
        for (int i = 0; i < phnum; i++) {
            int at = i * phentsize;
            long type = field(ph, at, 4);
            long off = is64 ? field64(ph, at + 0x08) : field(ph, at + 0x04, 4);
            long filesz = is64 ? field64(ph, at + 0x20) : field(ph, at + 0x10, 4);
            out.add(new Segment(type, off, filesz));
        }
        return List.copyOf(out);
    }

    /** The bytes of a section (empty for SHT_NOBITS). */
    public byte[] contents(Section s) {
        if (s.type() == 8) {
            return new byte[0];
        }
        check(s.offset(), s.size(), "section " + s.name());
        byte[] out = new byte[(int) s.size()];
        data.read(s.offset(), out);
        return out;
    }

    /** One symbol table entry. */
    public record Symbol(String name, int bind, int type, int shndx, long value) {
        public boolean undefined() {
            return shndx == 0;
        }
    }

    /** The entries of .symtab (empty when there is none). */
    public List<Symbol> symbols() {
        Optional<Section> symtab = sections.stream().filter(s -> s.type() == 2).findFirst();
        if (symtab.isEmpty()) {
            return List.of();
        }
        Section st = symtab.get();
        if (st.link() >= sections.size()) {
            throw corrupt(".symtab links to section " + st.link() + " of " + sections.size());
        }
        Section strtab = sections.get((int) st.link());
        check(strtab.offset(), strtab.size(), "the symbol name table");
        check(st.offset(), st.size(), "the symbol table");
        byte[] names = new byte[(int) strtab.size()];
        data.read(strtab.offset(), names);
        byte[] table = new byte[(int) st.size()];
        data.read(st.offset(), table);
        int entsize = is64 ? 24 : 16;
        List<Symbol> out = new ArrayList<>();
        for (int a = 0; a + entsize <= table.length; a += entsize) {
            long name = field(table, a, 4);
            int info;
            int shndx;
            long value;
            if (is64) {
                info = table[a + 4] & 0xFF;
                shndx = (int) field(table, a + 6, 2);
                value = raw64(table, a + 8);
            } else {
                value = field(table, a + 4, 4);
                info = table[a + 12] & 0xFF;
                shndx = (int) field(table, a + 14, 2);
            }
            String n = name == 0 ? "" : name(names, name);
            out.add(new Symbol(n, info >> 4, info & 0xF, shndx, value));
        }
        return out;
    }

    /** The GNU build-id note, as hex, if present. */
    public Optional<String> buildId() {
        Optional<Section> note = section(".note.gnu.build-id");
        if (note.isEmpty()) {
            return Optional.empty();
        }
        byte[] n = contents(note.get());
        if (n.length < 16) {
            return Optional.empty();
        }
        ByteBuffer b = ByteBuffer.wrap(n).order(order);
        long namesz = b.getInt() & 0xFFFFFFFFL;
        long descsz = b.getInt() & 0xFFFFFFFFL;
        b.getInt();
        long descOff = 12 + ((namesz + 3) & ~3L);
        if (descOff + descsz > n.length) {
            throw corrupt("the build-id note runs past its section");
        }
        StringBuilder sb = new StringBuilder((int) descsz * 2);
        for (long i = 0; i < descsz; i++) {
            int v = n[(int) (descOff + i)] & 0xFF;
            sb.append(Character.forDigit(v >> 4, 16)).append(Character.forDigit(v & 0xF, 16));
        }
        return Optional.of(sb.toString());
    }

    public ByteOrder order() {
        return order;
    }

    /** An unsigned field of {@code n} bytes (at most 4) of a copied header, in the file's byte order. */
    private long field(byte[] b, int off, int n) {
        long v = 0;
        if (order == ByteOrder.LITTLE_ENDIAN) {
            for (int i = n - 1; i >= 0; i--) {
                v = (v << 8) | (b[off + i] & 0xFF);
            }
        } else {
            for (int i = 0; i < n; i++) {
                v = (v << 8) | (b[off + i] & 0xFF);
            }
        }
        return v;
    }

    private long raw64(byte[] b, int off) {
        long lo = field(b, order == ByteOrder.LITTLE_ENDIAN ? off : off + 4, 4);
        long hi = field(b, order == ByteOrder.LITTLE_ENDIAN ? off + 4 : off, 4);
        return (hi << 32) | lo;
    }

    private long field64(byte[] b, int off) {
        long v = raw64(b, off);
        if (v < 0) {
            throw corrupt("a 64-bit field at " + off + " of a section header is larger than any file");
        }
        return v;
    }

    /** A NUL-terminated name in a copied name table. */
    private static String name(byte[] table, long index) {
        if (index >= table.length) {
            throw corrupt("a section name index " + index + " is past the name table (" + table.length + " bytes)");
        }
        int start = (int) index;
        int end = start;
        while (end < table.length && table[end] != 0) {
            end++;
        }
        if (end >= table.length) {
            throw corrupt("a section name is not NUL-terminated");
        }
        return new String(table, start, end - start, StandardCharsets.UTF_8);
    }

    private void check(long off, long len, String what) {
        if (off < 0 || len < 0 || off > length || len > length - off) {
            throw truncated(what + " (offset " + Long.toUnsignedString(off) + ", " + Long.toUnsignedString(len) + " bytes)");
        }
    }

    /** {@code n} bytes at {@code off}: from the copied header when they are in it, else read (bounds-checked). */
    private byte[] bytes(int off, int n) {
        check(off, n, "a header field");
        byte[] b = new byte[n];
        if (off + n <= hdr.length) {
            System.arraycopy(hdr, off, b, 0, n);
        } else {
            data.read(off, b);
        }
        return b;
    }

    private int u16(int off) {
        return (int) field(bytes(off, 2), 0, 2);
    }

    private long u32(int off) {
        return field(bytes(off, 4), 0, 4);
    }

    private long u64(int off) {
        long v = raw64(bytes(off, 8), 0);
        if (v < 0) {
            throw corrupt("a 64-bit field at " + off + " is larger than any file");
        }
        return v;
    }

    private static FormatException truncated(String what) {
        return new FormatException(FormatException.Reason.TRUNCATED, "The ELF file is truncated",
                "It ends before " + what, "Rebuild the module");
    }

    private static FormatException corrupt(String why) {
        return new FormatException(FormatException.Reason.CORRUPT, "The ELF file is corrupt", why, "Rebuild the module");
    }
}
