package io.lethe.region.prewarm;

/** A key of the source to copy, with its namespace and how hot it is (higher: hotter). */
record Candidate(String key, String namespace, long heat) {
}
