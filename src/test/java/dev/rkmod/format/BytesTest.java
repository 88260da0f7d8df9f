package dev.rkmod.format;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class BytesTest {
    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    @Test
    void findsTheFirstOccurrenceIncludingAtTheVeryEnd() {
        assertThat(Bytes.indexOf(b("xxrust\0\0\0yrust"), b("rust"))).isEqualTo(2);
        assertThat(Bytes.indexOf(b("abcrust\0\0\0"), b("rust\0\0\0"))).isEqualTo(3);
        assertThat(Bytes.indexOf(b("rusx rus"), b("rust"))).isEqualTo(-1);
        assertThat(Bytes.indexOf(b("ru"), b("rust"))).isEqualTo(-1);
        assertThat(Bytes.indexOf(b("abc"), new byte[0])).isZero();
        assertThat(Bytes.contains(b("{\"data-layout\": 1}"), b("\"data-layout\""))).isTrue();
        assertThat(Bytes.contains(b("{\"datalayout\": 1}"), b("\"data-layout\""))).isFalse();
    }

    @Test
    void findsOneByteOnlyInsideTheRangeClampedToTheArray() {
        byte[] d = b("ab\0cd\0");
        assertThat(Bytes.indexOf(d, (byte) 0, 0, d.length)).isEqualTo(2);
        assertThat(Bytes.indexOf(d, (byte) 0, 3, d.length)).isEqualTo(5);
        assertThat(Bytes.indexOf(d, (byte) 0, 3, 5)).isEqualTo(-1);
        assertThat(Bytes.indexOf(d, (byte) 0, 3, 100)).isEqualTo(5);
        assertThat(Bytes.indexOf(d, (byte) 0, 6, 100)).isEqualTo(-1);
    }

    @Test
    void rmetaIsFoundInsideALargerFile() {
        assertThat(RmetaHeader.occursIn(b("\u007fELF....rust\0\0\0\u0008"))).isTrue();
        assertThat(RmetaHeader.occursIn(b("\u007fELF....rust\0\0"))).isFalse();
    }
}
