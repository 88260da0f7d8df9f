package dev.rkmod.workflow.matrix;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import static org.assertj.core.api.Assertions.assertThat;

/** The matrix's JUnit report: one case per kernel, failed with the explanation, with its logs attached and inlined. */
class MatrixJunitTest {
    @TempDir
    Path home;

    private Document parse(String xml) throws Exception {
        return DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void oneCasePerKernelWithItsLogsAndExplanation() throws Exception {
        Files.createDirectories(home.resolve("6.1"));
        Files.createDirectories(home.resolve("6.12"));
        Files.createDirectories(home.resolve("debian-sid"));
        Files.writeString(home.resolve("6.1/build.log"), "==> make: M=demo\n  RUSTC [M] demo.o\n");
        Files.writeString(home.resolve("console-6.1.log"), "\u001bc[    0.000000] Linux version 6.1.192\r\ndemo: Demo module (init)\n");
        Files.writeString(home.resolve("6.12/build.log"), "error: proc macro panicked\n");
        Files.writeString(home.resolve("debian-sid/build.log"), "ok\n");
        Files.writeString(home.resolve("console-sid.log"), "x".repeat(MatrixJunit.LOG_LIMIT + 10) + "\nBUG: kernel NULL pointer dereference\n");
        String xml = MatrixJunit.of(MatrixFixtures.result(home));
        Document d = parse(xml);
        Element suite = d.getDocumentElement();
        assertThat(suite.getAttribute("name")).isEqualTo("rkmod.matrix");
        assertThat(suite.getAttribute("tests")).isEqualTo("4");
        assertThat(suite.getAttribute("failures")).isEqualTo("2");
        assertThat(suite.getAttribute("skipped")).isEqualTo("1");
        assertThat(suite.getAttribute("time")).isEqualTo("9.876");
        NodeList cases = d.getElementsByTagName("testcase");
        assertThat(cases.getLength()).isEqualTo(4);
        Element ok = (Element) cases.item(0);
        assertThat(ok.getAttribute("classname")).isEqualTo("rkmod.matrix.demo");
        assertThat(ok.getAttribute("name")).isEqualTo("6.1 (Linux 6.1.192)");
        assertThat(ok.getAttribute("time")).isEqualTo("3.100");
        assertThat(ok.getElementsByTagName("failure").getLength()).isZero();
        String out = ok.getElementsByTagName("system-out").item(0).getTextContent();
        assertThat(out).startsWith("[[ATTACHMENT|" + home.resolve("6.1/build.log") + "]]\n[[ATTACHMENT|"
                + home.resolve("console-6.1.log") + "]]\n").contains("  RUSTC [M] demo.o").contains("demo: Demo module (init)");

        Element build = (Element) cases.item(1);
        Element failure = (Element) build.getElementsByTagName("failure").item(0);
        assertThat(failure.getAttribute("message"))
                .isEqualTo("FAIL  in build: module! is written for another kernel generation [api.module-macro-syntax]");
        assertThat(failure.getTextContent()).contains("build: The allocation API differs in this kernel generation [api.allocation]")
                .contains("cause: 6.1 wants byte strings").contains("fix:   Write module! in the kernel's generation's syntax")
                .contains("the build's own errors:\n  error: proc macro panicked");
        assertThat(build.getElementsByTagName("system-out").item(0).getTextContent()).contains("error: proc macro panicked")
                .doesNotContain("console log");

        Element oops = (Element) cases.item(2);
        assertThat(((Element) oops.getElementsByTagName("failure").item(0)).getAttribute("message"))
                .isEqualTo("FAIL  in load: The kernel oopsed, warned or panicked [load.crash]");
        String sidOut = oops.getElementsByTagName("system-out").item(0).getTextContent();
        long cut = Files.size(home.resolve("console-sid.log")) - MatrixJunit.LOG_LIMIT;
        assertThat(sidOut.contains("[... the first " + cut + " bytes are in the file ...]\n")).as("says what it cut").isTrue();
        assertThat(sidOut.endsWith("BUG: kernel NULL pointer dereference\n")).as("keeps the end").isTrue();
        assertThat(sidOut.length()).as("inlines at most the limit").isLessThan(MatrixJunit.LOG_LIMIT + 1000);

        Element skipped = (Element) cases.item(3);
        assertThat(skipped.getAttribute("name")).isEqualTo("/src/linux");
        assertThat(skipped.getElementsByTagName("skipped").getLength()).isEqualTo(1);
        assertThat(skipped.getElementsByTagName("system-out").getLength()).isZero();
    }

    @Test
    void aMissingLogIsSaidNotFatal() throws Exception {
        String xml = MatrixJunit.of(MatrixFixtures.result(home));
        assertThat(parse(xml).getElementsByTagName("testcase").getLength()).isEqualTo(4);
        assertThat(xml).contains("(cannot read it: ");
    }
}
