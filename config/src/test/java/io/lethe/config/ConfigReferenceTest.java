package io.lethe.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class ConfigReferenceTest {

    @Test
    void docsConfigurationIsTheGeneratedReference() throws Exception {
        Path doc = Path.of("..", "docs", "configuration.md");
        if (Boolean.getBoolean("lethe.golden.update")) {
            Files.writeString(doc, ConfigReference.markdown());
        }
        assertEquals(Files.readString(doc), ConfigReference.markdown(),
                "docs/configuration.md is stale: regenerate with -Dlethe.golden.update=true");
    }

    @Test
    void everySettingTheLoaderReadsIsDocumented() throws Exception {
        // every name the loader and its section readers pass to finish("...") lists the settings of a section
        StringBuilder loader = new StringBuilder();
        for (String reader : List.of("ConfigLoader", "SourceSection", "KafkaSection", "NamespaceSection", "RegionSection",
                "RuntimeSections")) {
            loader.append(Files.readString(Path.of("src/main/java/io/lethe/config/" + reader + ".java")));
        }
        Matcher m = Pattern.compile("finish\\(\"([^\"]+)\"(?:\\s*\\+\\s*\"([^\"]+)\")?").matcher(loader);
        String reference = ConfigReference.markdown();
        int sections = 0;
        while (m.find()) {
            sections++;
            String names = m.group(1) + (m.group(2) == null ? "" : m.group(2));
            for (String name : names.split(",\\s*")) {
                assertTrue(
                        reference.contains(name.trim() + "`") || reference.contains("." + name.trim())
                                || reference.contains("`" + name.trim() + "."),
                        "setting '" + name.trim() + "' is not in the reference");
            }
        }
        assertTrue(sections >= 8, "found the loader's sections: " + sections);
    }
}
