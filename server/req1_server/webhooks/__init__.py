"""Webhooks (extended contract §8): the database queues deliveries in the change's own transaction (migration
0030); :mod:`.dispatcher` sends them after commit, signed (:mod:`.signing`), only to allowed destinations
(:mod:`.destinations`), with retries, from any number of API processes at once."""
