/**
 * Data for RingTMP: IDX files (MNIST, Fashion-MNIST) read into in-memory {@link
 * io.ringtmp.data.Dataset}s, the MNIST fetch-and-verify step, seeded synthetic sets, and the
 * seeded epoch order and sharding every trainer uses. Errors in data files and specs are
 * {@link io.ringtmp.data.DataException}s; {@code io.ringtmp.data.internal} is machinery no other
 * module imports. See {@code docs/data.md}.
 */
package io.ringtmp.data;
