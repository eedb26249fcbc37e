package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"sync"

	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/storage"
)

// The holdover file. Restarting the WAL needs a checkpoint with nothing
// committed meanwhile, which costs several milliseconds (the WAL and the
// database are synced). Rather than make every decision arriving then
// wait, the writer holds over the events it receives during that pause:
// it assigns each its seq, appends it to the holdover file beside the
// database (one write per batch, which a crash of the process does not
// undo: the same promise as a WAL commit with synchronous=normal),
// acknowledges it, and inserts the held events as soon as the checkpoint
// is over, before anything else. Open inserts whatever a crash left in the
// file; inserting twice does nothing, as every event's seq and id are
// unique. Until they are inserted, held events are found by Event and
// EventByExternalID and count for the uniqueness of ids.

// holdoverSuffix names the holdover file: the database path plus it.
const holdoverSuffix = "-holdover"

// row is one event as its columns in the events table.
type row struct {
	seq                         int64
	tenant, id, kind, ext       string
	occurred, received          int64
	amount                      int64
	currency                    string
	score                       int64
	action                      string
	rulesVersion                int64
	modelVersion                string
	latency                     int64
	assessment, payload, envRaw []byte
}

// rowOf returns e's columns, with its assessment already encoded as ass.
func rowOf(e *storage.Event, ass []byte) row {
	a := e.Assessment
	return row{
		tenant: e.Tenant, id: e.ID, kind: string(e.Kind), ext: e.ExternalID,
		occurred: micros(e.OccurredAt), received: micros(e.ReceivedAt),
		amount: e.AmountMinor, currency: e.Currency,
		score: int64(a.Score), action: string(a.Action), rulesVersion: a.RulesVersion, modelVersion: a.ModelVersion,
		latency: e.LatencyMicros, assessment: ass, payload: e.Payload, envRaw: e.Env,
	}
}

// event rebuilds the event r holds, without labels.
func (r *row) event() (storage.Event, error) {
	e := storage.Event{
		Seq: r.seq, Tenant: r.tenant, ID: r.id, Kind: risk.EventKind(r.kind), ExternalID: r.ext,
		OccurredAt: fromMicros(r.occurred), ReceivedAt: fromMicros(r.received),
		AmountMinor: r.amount, Currency: r.currency, LatencyMicros: r.latency,
		Payload: append(json.RawMessage(nil), r.payload...), Env: append(json.RawMessage(nil), r.envRaw...),
	}
	if err := json.Unmarshal(r.assessment, &e.Assessment); err != nil {
		return e, fmt.Errorf("sqlite: decode assessment of event %s: %w", r.id, err)
	}
	return e, nil
}

// A record in the holdover file is its length (4 bytes, little endian),
// the CRC-32C of the body (4 bytes) and the body: the columns in order,
// integers as varints and texts as a uvarint length then the bytes.
var crcTable = crc32.MakeTable(crc32.Castagnoli)

// maxRecord bounds one record; a longer length is damage, not an event.
const maxRecord = 64 << 20

// appendRecord appends r's record to b.
func appendRecord(b []byte, r *row) []byte {
	start := len(b)
	b = append(b, 0, 0, 0, 0, 0, 0, 0, 0)
	b = binary.AppendVarint(b, r.seq)
	for _, s := range []string{r.tenant, r.id, r.kind, r.ext} {
		b = appendText(b, s)
	}
	for _, n := range []int64{r.occurred, r.received, r.amount} {
		b = binary.AppendVarint(b, n)
	}
	b = appendText(b, r.currency)
	b = binary.AppendVarint(b, r.score)
	b = appendText(b, r.action)
	b = binary.AppendVarint(b, r.rulesVersion)
	b = appendText(b, r.modelVersion)
	b = binary.AppendVarint(b, r.latency)
	for _, s := range [][]byte{r.assessment, r.payload, r.envRaw} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	body := b[start+8:]
	binary.LittleEndian.PutUint32(b[start:], uint32(len(body)))
	binary.LittleEndian.PutUint32(b[start+4:], crc32.Checksum(body, crcTable))
	return b
}

func appendText(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// errDamaged marks a record that cannot be read: the file ends there.
var errDamaged = errors.New("damaged holdover record")

// readRecords decodes the records at the start of data. It stops at the
// first record that is cut short or damaged (a crash while it was written:
// it was never acknowledged) and returns the rows before it.
func readRecords(data []byte) []row {
	var out []row
	for len(data) >= 8 {
		n := binary.LittleEndian.Uint32(data)
		if n > maxRecord || uint64(len(data)-8) < uint64(n) {
			break
		}
		body := data[8 : 8+n]
		if crc32.Checksum(body, crcTable) != binary.LittleEndian.Uint32(data[4:]) {
			break
		}
		r, err := decodeRecord(body)
		if err != nil {
			break
		}
		out = append(out, r)
		data = data[8+n:]
	}
	return out
}

// recordReader reads the fields of one record body in order.
type recordReader struct {
	b   []byte
	err error
}

func (d *recordReader) int() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errDamaged
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *recordReader) bytes() []byte {
	if d.err != nil {
		return nil
	}
	l, n := binary.Uvarint(d.b)
	if n <= 0 || l > uint64(len(d.b)-n) {
		d.err = errDamaged
		return nil
	}
	v := d.b[n : n+int(l)]
	d.b = d.b[n+int(l):]
	return v
}

func (d *recordReader) text() string { return string(d.bytes()) }

func decodeRecord(body []byte) (row, error) {
	d := recordReader{b: body}
	var r row
	r.seq = d.int()
	r.tenant, r.id, r.kind, r.ext = d.text(), d.text(), d.text(), d.text()
	r.occurred, r.received, r.amount = d.int(), d.int(), d.int()
	r.currency = d.text()
	r.score = d.int()
	r.action = d.text()
	r.rulesVersion = d.int()
	r.modelVersion = d.text()
	r.latency = d.int()
	r.assessment = bytes.Clone(d.bytes())
	r.payload = bytes.Clone(d.bytes())
	r.envRaw = bytes.Clone(d.bytes())
	if d.err == nil && len(d.b) != 0 {
		d.err = errDamaged
	}
	if d.err == nil && r.seq <= 0 {
		d.err = errDamaged
	}
	return r, d.err
}

// holdover is the writer's file of acknowledged events not yet inserted,
// and its index of them for readers.
type holdover struct {
	f   *os.File
	buf []byte

	mu   sync.RWMutex
	rows []row             // in seq order; written by the writer, read under mu
	byID map[[2]string]int // (tenant, id) -> index in rows
	ext  map[[3]string]int // (tenant, kind, external id) -> index in rows
	// cleared is closed (and replaced) each time the held rows are inserted.
	cleared chan struct{}
}

// openHoldover opens (creating) the holdover file at path and returns what
// it holds.
func openHoldover(path string) (*holdover, []row, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("sqlite: open holdover file: %w", err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("sqlite: read holdover file: %w", err)
	}
	return &holdover{f: f, byID: map[[2]string]int{}, ext: map[[3]string]int{}, cleared: make(chan struct{})},
		readRecords(data), nil
}

// has reports whether a held event takes r's id or external id.
func (h *holdover) has(r *row) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	_, a := h.byID[[2]string{r.tenant, r.id}]
	_, b := h.ext[[3]string{r.tenant, r.kind, r.ext}]
	return a || b
}

// hold appends rows to the file (one write) and to the index. The rows are
// acknowledged once it returns nil.
func (h *holdover) hold(rows []row) error {
	h.buf = h.buf[:0]
	for i := range rows {
		h.buf = appendRecord(h.buf, &rows[i])
	}
	if _, err := h.f.Write(h.buf); err != nil {
		return fmt.Errorf("sqlite: write holdover file: %w", err)
	}
	h.mu.Lock()
	for _, r := range rows {
		h.byID[[2]string{r.tenant, r.id}] = len(h.rows)
		h.ext[[3]string{r.tenant, r.kind, r.ext}] = len(h.rows)
		h.rows = append(h.rows, r)
	}
	h.mu.Unlock()
	return nil
}

// find returns the held event with the tenant's id (byExt false) or the
// kind and external id (byExt true).
func (h *holdover) find(tenant, kind, id string, byExt bool) (row, bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	var i int
	var ok bool
	if byExt {
		i, ok = h.ext[[3]string{tenant, kind, id}]
	} else {
		i, ok = h.byID[[2]string{tenant, id}]
	}
	if !ok {
		return row{}, false
	}
	return h.rows[i], true
}

// await returns once the tenant's event id is not held (at once when it
// is not), or when ctx ends.
func (h *holdover) await(ctx context.Context, tenant, id string) error {
	h.mu.RLock()
	_, held := h.byID[[2]string{tenant, id}]
	cleared := h.cleared
	h.mu.RUnlock()
	if !held {
		return nil
	}
	select {
	case <-cleared:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// held returns the rows waiting to be inserted.
func (h *holdover) held() []row {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.rows
}

// clear forgets the held rows once they are committed and empties the file.
func (h *holdover) clear() error {
	h.mu.Lock()
	h.rows = nil
	clear(h.byID)
	clear(h.ext)
	close(h.cleared)
	h.cleared = make(chan struct{})
	h.mu.Unlock()
	if err := h.f.Truncate(0); err != nil {
		return fmt.Errorf("sqlite: empty holdover file: %w", err)
	}
	return nil
}

// exists reports whether the tenant already stored an event with r's id or
// its kind and external id; the writer asks while it holds events over.
const existsEvent = `SELECT EXISTS (SELECT 1 FROM events WHERE tenant = ? AND id = ?)
	OR EXISTS (SELECT 1 FROM events WHERE tenant = ? AND kind = ? AND external_id = ?)`

func (s *Store) exists(ctx context.Context, r *row) (bool, error) {
	var ok bool
	err := s.exist.QueryRowContext(ctx, r.tenant, r.id, r.tenant, r.kind, r.ext).Scan(&ok)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("sqlite: check event ids: %w", err)
	}
	return ok, nil
}
