package io.lethe.region.apply;

import io.lethe.region.redis.RedisFailures;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.stage.failure.Failure;

/**
 * A key whose call Redis refuses for good (see {@link RedisFailures}).
 *
 * @param event   the invalidation (its source record is dead-lettered)
 * @param key     the key the call was for (a pattern's match, or the event's key)
 * @param failure why
 * @param widened true when the wider invalidation of {@link RedisApplier#widen} was applied in its place
 */
record Poisoned(InvalidationEvent event, String key, Failure failure, boolean widened) {
}
