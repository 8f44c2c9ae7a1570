package io.lethe.region.inspect;

import io.lethe.config.KeyTemplate;
import io.lethe.config.NamespaceConfig;
import io.lethe.region.inspect.CacheInspector.Report;

/** An entry judged under one namespace's template (a suspect of the first pass: the entry as it was then), with its report. */
record Suspect(NamespaceConfig ns, KeyTemplate template, Entry entry, Report report) {
}
