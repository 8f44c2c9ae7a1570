package io.lethe.config;

/**
 * The HTTP endpoint each process serves ({@code /metrics}, {@code /health}).
 *
 * @param host address to bind; 127.0.0.1 unless you expose it deliberately
 * @param port port; 0 picks a free one
 */
public record HttpConfig(String host, int port) {
}
