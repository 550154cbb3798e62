/* segment.h -- the speed archive's file names and store record: speed writes, batch reads */
#ifndef SHARED_SEGMENT_H
#define SHARED_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "shared/buf.h"

/*
 * The contract between lambda-speed, which writes its archive (speed/archive.c),
 * and lambda-batch, which reads the archive as its master dataset and holds
 * its cutoff before the events speed archived but did not seal yet
 * (batch/hold.c), and tells the late-data ledger which late events it read
 * (batch/late.c). Nothing else may spell these names.
 *
 * Files, one folder per topic and partition under speed.archive (DIR):
 *     DIR/TOPIC/pP/FIRST-LAST.jsonl      a sealed segment
 *     DIR/TOPIC/pP/.FIRST.jsonl.open     the open segment (hidden)
 * P is the partition in decimal; FIRST and LAST are the Kafka offsets of the
 * first and last line, 20 digits with leading zeros, so names sort in offset
 * order and say which records they hold. Only sealed files are part of the
 * master dataset; an open segment is renamed to its sealed name.
 *
 * Store: the state of a partition's segment is the meta value named
 *     speed.archive/TOPIC/P
 * holding the text record (decimal integers separated by one space)
 *     FIRST LEN LAST OPENED TMIN
 * FIRST its first offset, LEN its committed length in bytes, LAST its last
 * offset, OPENED the wall clock (ms) when it was opened, TMIN the oldest
 * event time (ms) among its lines. Speed writes it in the commit transaction
 * that appends the lines; the value stays after the seal (it describes the
 * last segment, open or sealed).
 */

#define SEGMENT_KEY_PREFIX "speed.archive/"

/*
 * The newest event time of a segment, so that a reader of the events from a
 * time on (viewswitch.h) skips the segments that cannot hold any:
 *     speed.archive.tmax/TOPIC/P/FIRST   (8-byte integer, ms)
 * the newest event time among the committed lines of partition P's segment
 * that starts at offset FIRST, written by speed in the commit that appends
 * them. lambda-batch's publish deletes those before its cutoff and records
 * the highest cutoff it pruned at in SEGMENT_TMAX_PRUNED: a reader from an
 * earlier time must read every segment. A segment without one (archived
 * before this was kept) may hold any time.
 */
#define SEGMENT_TMAX_PREFIX "speed.archive.tmax/"
#define SEGMENT_TMAX_PRUNED "speed.archive.tmax_pruned"
#define SEGMENT_SUFFIX ".jsonl"             /* of a sealed segment */
#define SEGMENT_OPEN_SUFFIX ".jsonl.open"   /* of the open one */
#define SEGMENT_RECORD_MAX 128  /* bytes of a record, NUL included */
#define SEGMENT_NAME_MAX 64     /* bytes of a file name, NUL included */

/* One segment's state, as in its meta record. */
struct segment {
    int64_t first;      /* offset of its first line */
    int64_t len;        /* committed bytes */
    int64_t last;       /* offset of its last committed line */
    int64_t opened;     /* wall clock (ms) when it was opened */
    int64_t tmin;       /* oldest event time (ms) among its lines */
};

/*
 * Append to b the meta name of topic's partition part,
 * "speed.archive/TOPIC/P"; with part < 0 the prefix every partition's name
 * of topic starts with, "speed.archive/TOPIC/" (for store_meta_scan()).
 */
void segment_key(struct buf *b, const char *topic, int32_t part);

/* Append to b (cleared) the name "speed.archive.tmax/TOPIC/P/FIRST". */
void segment_tmax_key(struct buf *b, const char *topic, int32_t part,
    int64_t first);

/*
 * The partition of a meta name made by segment_key(b, topic, P). Returns 0
 * and *part, or -1 if name is not such a name.
 */
int segment_key_part(const char *name, const char *topic, int32_t *part);

/*
 * Write s's record into buf (at least SEGMENT_RECORD_MAX bytes) and return
 * its length, without the NUL.
 */
size_t segment_format(const struct segment *s, char *buf);

/*
 * Parse the record text of len bytes (not NUL-terminated, as the store hands
 * it) into *s. Returns 0, or -1 when text is not five decimal integers
 * separated by one space (the caller names the key in its message).
 */
int segment_parse(struct segment *s, const void *text, size_t len);

/* The file name of the open segment that starts at first, into buf (at least
 * SEGMENT_NAME_MAX bytes); returns buf. */
const char *segment_open_name(char *buf, int64_t first);

/* The file name of the sealed segment of offsets first to last, into buf (at
 * least SEGMENT_NAME_MAX bytes); returns buf. */
const char *segment_sealed_name(char *buf, int64_t first, int64_t last);

/*
 * Nonzero when path (a file batch reads) is the sealed segment of partition
 * part that starts at offset first: it has the folder pP and a file name
 * starting FIRST-.
 */
int segment_path_is(const char *path, int32_t part, int64_t first);

/*
 * The partition and offsets of path when it is a sealed segment of topic in
 * the archive dir: DIR/TOPIC/pP/FIRST-LAST.jsonl. Returns 0, or -1 when it
 * is not.
 */
int segment_path_parse(const char *path, const char *dir, const char *topic,
    int32_t *part, int64_t *first, int64_t *last);

#endif
