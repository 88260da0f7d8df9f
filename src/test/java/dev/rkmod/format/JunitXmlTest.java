package dev.rkmod.format;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The JUnit writer's optional parts: a case's time, the failure's text and the case's standard output. */
class JunitXmlTest {

    @Test
    void aCaseWithTimeFailureTextAndSystemOut() {
        String xml = JunitXml.write("rkmod.matrix", 12.3456, List.of(
                new JunitXml.Case("rkmod.matrix.demo", "6.1 (Linux 6.1.192)", null, false, null,
                        "[[ATTACHMENT|/logs/build.log]]\nmake & <done>\n", 4.5),
                new JunitXml.Case("rkmod.matrix.demo", "6.12", "FAIL  in build: x [api.allocation]", false,
                        "build: x\n  seen:  error[E0599]: no method named `try_push`\n", null, 2.0),
                new JunitXml.Case("rkmod.matrix.demo", "debian-sid", null, true, null, null, 0.0)));
        assertThat(xml).isEqualTo("""
                <?xml version="1.0" encoding="UTF-8"?>
                <testsuite name="rkmod.matrix" tests="3" failures="1" errors="0" skipped="1" time="12.346">
                  <testcase classname="rkmod.matrix.demo" name="6.1 (Linux 6.1.192)" time="4.500">
                    <system-out>[[ATTACHMENT|/logs/build.log]]
                make &amp; &lt;done&gt;
                </system-out>
                  </testcase>
                  <testcase classname="rkmod.matrix.demo" name="6.12" time="2.000">
                    <failure message="FAIL  in build: x [api.allocation]">build: x
                  seen:  error[E0599]: no method named `try_push`
                </failure>
                  </testcase>
                  <testcase classname="rkmod.matrix.demo" name="debian-sid" time="0.000">
                    <skipped/>
                  </testcase>
                </testsuite>
                """);
    }

    @Test
    void controlCharactersOfAConsoleLogAreDropped() {
        String xml = JunitXml.write("s", 0, List.of(new JunitXml.Case("c", "n", null, false, null,
                "\u001bc\u001b[2JSeaBIOS\r\n", null)));
        assertThat(xml).contains("<system-out>c[2JSeaBIOS\n</system-out>").doesNotContain("\u001b").doesNotContain("\r");
    }

    @Test
    void theFourPartCaseIsWrittenAsBefore() {
        assertThat(JunitXml.write("s", 1, List.of(new JunitXml.Case("c", "a", null, false),
                new JunitXml.Case("c", "b", "m", false)))).isEqualTo("""
                <?xml version="1.0" encoding="UTF-8"?>
                <testsuite name="s" tests="2" failures="1" errors="0" skipped="0" time="1.000">
                  <testcase classname="c" name="a"/>
                  <testcase classname="c" name="b">
                    <failure message="m"/>
                  </testcase>
                </testsuite>
                """);
    }
}
