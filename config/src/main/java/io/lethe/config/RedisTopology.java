package io.lethe.config;

/** How a region's Redis is deployed. */
public enum RedisTopology {
    STANDALONE, SENTINEL, CLUSTER
}
