package dev.rkmod.cli;

import dev.rkmod.infra.host.Host;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static dev.rkmod.format.ModuleCms.tlv;

/**
 * The training run of rkmod's class-data-sharing archive: the launchers run
 * {@code java -XX:DumpLoadedClassList=L -cp rkmod.jar dev.rkmod.cli.CdsTraining}, then
 * {@code java -Xshare:dump -XX:SharedClassListFile=L -XX:SharedArchiveFile=rkmod.jsa -cp rkmod.jar}, and later runs
 * map the classes this loaded instead of reading and verifying them again. It runs the short commands
 * ({@code --version}, {@code info} in its forms, {@code --help}) on a small module it writes, the first steps of
 * {@code build} and {@code vmtest} up to their refusal of a directory that is no module or kernel, and {@code sign}
 * and {@code verify} of that module with a throwaway RSA key and certificate made here (the JDK's RSA, key and
 * certificate classes: 30 ms of every sign's start), printing nothing; then it loads, without initialising, every
 * class of rkmod, picocli and Gson in the jar, so that the archive holds the commands it could not run too.
 */
public final class CdsTraining {
    private CdsTraining() {
    }

    public static void main(String[] args) throws IOException {
        Path dir = Files.createTempDirectory("rkmod-cds");
        try {
            Path ko = dir.resolve("training.ko");
            Files.write(ko, module());
            PrintStream none = new PrintStream(OutputStream.nullOutputStream());
            // the cache of the training run is its own temporary directory: it leaves nothing in the user's home
            java.util.Map<String, String> env = new java.util.HashMap<>(System.getenv());
            env.put("XDG_CACHE_HOME", dir.resolve("cache").toString());
            Host current = Host.current();
            Host host = new Host(Path.of("/"), current.uid(), env);
            String m = ko.toString();
            for (String[] a : new String[][] {
                {"--version"}, {"info", m}, {"info", "-F", "vermagic", m}, {"info", m, dir.resolve("missing.ko").toString()},
                {"info", "--json", m}, {"--help"}, {"info", "--help"},
                {"build", dir.toString(), "--kdir", dir.toString(), "-q"},
                {"vmtest", m, "--kernel", dir.resolve("missing-bzImage").toString(), "--kvm", "off", "-q"},
                {"build", "--help"}, {"vmtest", "--help"}}) {
                Main.run(a, none, none, host, false);
            }
            Path key = dir.resolve("training-key.pem");
            Path crt = dir.resolve("training.crt");
            if (throwawayKey(key, crt)) {
                Main.run(new String[] {"sign", m, "--key", key.toString(), "--cert", crt.toString(), "-q"}, none, none, host, false);
                Main.run(new String[] {"verify", m, "--cert", crt.toString()}, none, none, host, false);
            }
            loadAll();
        } finally {
            dev.rkmod.infra.fs.FileOps.deleteTree(dir);
        }
    }

    /** Loads every class of rkmod, picocli and Gson in the jar this class came from, without initialising them. */
    private static void loadAll() throws IOException {
        java.net.URL jar = CdsTraining.class.getProtectionDomain().getCodeSource().getLocation();
        if (jar == null || !jar.getPath().endsWith(".jar")) {
            return; // run from classes (the tests): nothing to archive
        }
        ClassLoader loader = CdsTraining.class.getClassLoader();
        try (java.util.zip.ZipFile zip = new java.util.zip.ZipFile(jar.getPath())) {
            for (java.util.Enumeration<? extends java.util.zip.ZipEntry> e = zip.entries(); e.hasMoreElements(); ) {
                String n = e.nextElement().getName();
                if (n.endsWith(".class") && !n.contains("-info") && !n.startsWith("META-INF/")
                        && (n.startsWith("dev/rkmod/") || n.startsWith("picocli/") || n.startsWith("com/google/gson/"))) {
                    try {
                        Class.forName(n.substring(0, n.length() - 6).replace('/', '.'), false, loader);
                    } catch (LinkageError | ClassNotFoundException ignored) {
                        // a class that cannot load is left out of the archive, and fails later as it would anyway
                    }
                }
            }
        }
    }

    /**
     * A throwaway RSA key (PKCS#8 PEM, rw-------) and a self-signed certificate for it (DER), for the training's sign
     * run only; false when the JDK cannot make them (the training then skips sign).
     */
    static boolean throwawayKey(Path key, Path crt) {
        try {
            java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance("RSA");
            g.initialize(1024); // the classes are the same as for 2048 bits; the primes come quicker
            java.security.KeyPair kp = g.generateKeyPair();
            byte[] sha256WithRsa = java.util.HexFormat.of().parseHex("300d06092a864886f70d01010b0500");
            byte[] name = tlv(0x30, tlv(0x31, tlv(0x30, java.util.HexFormat.of().parseHex("0603550403"),
                    tlv(0x0c, "rkmod training".getBytes(StandardCharsets.US_ASCII)))));
            byte[] validity = tlv(0x30, tlv(0x17, "250101000000Z".getBytes(StandardCharsets.US_ASCII)),
                    tlv(0x17, "491231000000Z".getBytes(StandardCharsets.US_ASCII)));
            byte[] tbs = tlv(0x30, tlv(0xa0, new byte[] {2, 1, 2}), new byte[] {2, 1, 1}, sha256WithRsa, name, validity, name,
                    kp.getPublic().getEncoded());
            java.security.Signature s = java.security.Signature.getInstance("SHA256withRSA");
            s.initSign(kp.getPrivate());
            s.update(tbs);
            byte[] sig = s.sign();
            byte[] bits = new byte[sig.length + 1];
            System.arraycopy(sig, 0, bits, 1, sig.length);
            Files.write(crt, tlv(0x30, tbs, sha256WithRsa, tlv(0x03, bits)));
            Files.createFile(key, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                    java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
            Files.writeString(key, "-----BEGIN PRIVATE KEY-----\n" + java.util.Base64.getMimeEncoder(64,
                    new byte[] {'\n'}).encodeToString(kp.getPrivate().getEncoded()) + "\n-----END PRIVATE KEY-----\n");
            return true;
        } catch (IOException | java.security.GeneralSecurityException | UnsupportedOperationException e) {
            return false;
        }
    }


    /** A minimal ELF64 relocatable object with .modinfo, __versions and a build-id note, as info reads them. */
    static byte[] module() {
        byte[] modinfo = "license=GPL\0description=training\0vermagic=6.1.0 SMP mod_unload modversions \0name=training\0depends=\0"
                .getBytes(StandardCharsets.US_ASCII);
        ByteBuffer versions = ByteBuffer.allocate(2 * 64).order(ByteOrder.LITTLE_ENDIAN);
        versions.putLong(0, 0x12345678L).put(8, "module_layout".getBytes(StandardCharsets.US_ASCII));
        versions.putLong(64, 0x9abcdef0L).put(72, "_printk".getBytes(StandardCharsets.US_ASCII));
        ByteBuffer note = ByteBuffer.allocate(12 + 4 + 20).order(ByteOrder.LITTLE_ENDIAN);
        note.putInt(4).putInt(20).putInt(3).put("GNU\0".getBytes(StandardCharsets.US_ASCII));
        String[] names = {"", ".modinfo", "__versions", ".note.gnu.build-id", ".shstrtab"};
        StringBuilder strtab = new StringBuilder();
        int[] nameOff = new int[names.length];
        for (int i = 0; i < names.length; i++) {
            nameOff[i] = strtab.length();
            strtab.append(names[i]).append('\0');
        }
        byte[][] contents = {new byte[0], modinfo, versions.array(), note.array(),
            strtab.toString().getBytes(StandardCharsets.US_ASCII)};
        int[] types = {0, 1, 1, 7, 3};
        int at = 64;
        int[] offsets = new int[names.length];
        for (int i = 0; i < names.length; i++) {
            offsets[i] = at;
            at += contents[i].length;
        }
        int shoff = (at + 7) & ~7;
        ByteBuffer b = ByteBuffer.allocate(shoff + 64 * names.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {0x7F, 'E', 'L', 'F', 2, 1, 1});
        b.putShort(16, (short) 1).putShort(18, (short) 62).putInt(20, 1).putLong(0x28, shoff)
                .putShort(0x34, (short) 64).putShort(0x3A, (short) 64).putShort(0x3C, (short) names.length)
                .putShort(0x3E, (short) (names.length - 1));
        for (int i = 0; i < names.length; i++) {
            b.put(offsets[i], contents[i]);
            int h = shoff + 64 * i;
            b.putInt(h, nameOff[i]).putInt(h + 4, types[i]).putLong(h + 0x18, i == 0 ? 0 : offsets[i])
                    .putLong(h + 0x20, contents[i].length).putLong(h + 0x30, 1);
        }
        return b.array();
    }
}
