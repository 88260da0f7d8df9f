package dev.rkmod.workflow.scaffold;

import dev.rkmod.model.ExitCode;
import dev.rkmod.model.KernelGeneration.ModuleSyntax;
import dev.rkmod.model.RkmodException;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The one module template against the five per-syntax templates it replaced (kept as golden files under
 * dev/rkmod/templates/golden): every syntax must give byte-identical sources.
 */
class ModuleTemplatesTest {
    /** name, description, author: ordinary, and with what escaping and the placeholders' order must survive. */
    private static final List<List<String>> INPUTS = List.of(
            List.of("rust_out_of_tree", "Rust out-of-tree module", "rkmod user"),
            List.of("m", "says \"hi\" \\ twice\nand more", "A. Person <a@example.org>"),
            List.of("x_1__y", "@AUTHOR@ and @NAME@", "@DESCRIPTION@ @TYPE@"));

    private static String golden(ModuleSyntax syntax) throws IOException {
        String file = "/dev/rkmod/templates/golden/" + syntax.name().toLowerCase(Locale.ROOT) + ".rs";
        try (InputStream in = ModuleTemplatesTest.class.getResourceAsStream(file)) {
            assertThat(in).as(file).isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** What rkmod did before: the syntax's own template, with the four values replaced in this order. */
    private static String before(ModuleSyntax syntax, String name, String description, String author) throws IOException {
        return golden(syntax).replace("@NAME@", name)
                .replace("@TYPE@", ModuleTemplates.typeName(name))
                .replace("@DESCRIPTION@", description.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", " "))
                .replace("@AUTHOR@", author.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", " "));
    }

    @Test
    void everySyntaxGivesTheSameSourceAsItsOwnTemplateDid() throws IOException {
        assertThat(ModuleSyntax.values()).hasSize(5);
        for (ModuleSyntax syntax : ModuleSyntax.values()) {
            for (List<String> in : INPUTS) {
                assertThat(ModuleTemplates.rust(syntax, in.get(0), in.get(1), in.get(2)))
                        .as("%s %s", syntax, in)
                        .isEqualTo(before(syntax, in.get(0), in.get(1), in.get(2)));
            }
        }
    }

    @Test
    void theSyntaxesDifferWhereTheKernelsDo() {
        String v61 = ModuleTemplates.rust(ModuleSyntax.BYTE_STRINGS, "hello", "d", "a");
        assertThat(v61).contains("name: b\"hello\",", "author: b\"a\",", "license: b\"GPL\",", "numbers.try_push(n)?;",
                "numbers: Vec<i32>").doesNotContain("@");
        String v615 = ModuleTemplates.rust(ModuleSyntax.AUTHORS_KVEC, "hello", "d", "a");
        assertThat(v615).contains("name: \"hello\",", "authors: [\"a\"],", "KVec::new()", "numbers.push(n, GFP_KERNEL)?;")
                .doesNotContain("@");
    }

    @Test
    void moduleNamesAreCheckedInOnePlace() {
        for (String bad : new String[] {"Hello", "1abc", "a-b", "", "a".repeat(56)}) {
            assertThatThrownBy(() -> ModuleTemplates.checkModuleName(bad)).as(bad)
                    .isInstanceOfSatisfying(RkmodException.class, e -> {
                        assertThat(e.exitCode()).isEqualTo(ExitCode.USAGE);
                        assertThat(e.what()).isEqualTo("'" + bad + "' is not a valid module name");
                    });
            assertThatThrownBy(() -> ModuleTemplates.rust(ModuleSyntax.STRINGS_KVEC, bad, "d", "a"))
                    .isInstanceOf(RkmodException.class);
        }
        ModuleTemplates.checkModuleName("a".repeat(55));
        ModuleTemplates.checkModuleName("rust_out_of_tree_2");
    }
}
