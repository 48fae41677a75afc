package meta

import (
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
)

// commandVersion is the version every command is written at. A decoder
// accepts the versions it knows (only 0 so far).
const commandVersion = 0

// AppendCommand appends c's encoding to dst.
func AppendCommand(dst []byte, c Command) []byte {
	dst = append(dst, byte(c.Type()), commandVersion)
	return c.appendBody(dst)
}

// DecodeCommand decodes one command, which must fill b exactly. It never
// panics and allocates only what b's lengths, checked against what is left
// of b, call for.
func DecodeCommand(b []byte) (Command, error) {
	if len(b) < 2 {
		return nil, fmt.Errorf("%w: %d-byte command", ErrCorrupt, len(b))
	}
	typ, version := CommandType(b[0]), b[1]
	if typ < TypeInitCluster || typ > TypeElectLeader {
		return nil, fmt.Errorf("%w: %d", ErrUnknownCommand, typ)
	}
	// Before the fields: a newer layout must read as "newer", never as
	// "malformed", since a voter halts on the one and skips the other.
	if version != commandVersion {
		return nil, fmt.Errorf("%w: command %d version %d", ErrUnsupportedVersion, typ, version)
	}
	d := &decoder{b: b[2:]}
	var c Command
	switch typ {
	case TypeInitCluster:
		c = InitCluster{ClusterID: d.string(maxClusterIDLen), ProducerIDFloor: d.varint()}
	case TypeRegisterBroker:
		c = RegisterBroker{ID: d.int32(), IncarnationID: d.id(), Listeners: d.listeners(), Rack: d.string(maxShortString)}
	case TypeFenceBroker:
		c = FenceBroker{ID: d.int32(), Epoch: d.varint()}
	case TypeUnfenceBroker:
		c = UnfenceBroker{ID: d.int32(), Epoch: d.varint()}
	case TypeCreateTopic:
		c = CreateTopic{ID: d.id(), Name: d.string(maxNameLen), Configs: d.configs(), Assignment: d.assignment()}
	case TypeDeleteTopic:
		c = DeleteTopic{ID: d.id()}
	case TypeCreatePartitions:
		c = CreatePartitions{ID: d.id(), Assignment: d.assignment()}
	case TypeAlterConfigs:
		c = d.alterConfigs()
	case TypeAllocateProducerIDs:
		c = AllocateProducerIDs{BrokerID: d.int32(), BrokerEpoch: d.varint()}
	case TypeChangeISR:
		c = d.changeISR()
	case TypeElectLeader:
		el := ElectLeader{TopicID: d.id(), Partition: d.int32(), Election: ElectionType(d.int8())}
		if el.Election != ElectPreferred && el.Election != ElectUnclean {
			d.fail("election type %d", el.Election)
		}
		c = el
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d bytes after command %d", len(d.b), typ)
	}
	if d.err != nil {
		return nil, d.err
	}
	return c, nil
}

func (c InitCluster) appendBody(b []byte) []byte {
	return binary.AppendVarint(appendString(b, c.ClusterID), c.ProducerIDFloor)
}

func (c RegisterBroker) appendBody(b []byte) []byte {
	b = binary.AppendVarint(b, int64(c.ID))
	b = append(b, c.IncarnationID[:]...)
	b = appendListeners(b, c.Listeners)
	return appendString(b, c.Rack)
}

func (c FenceBroker) appendBody(b []byte) []byte {
	return binary.AppendVarint(binary.AppendVarint(b, int64(c.ID)), c.Epoch)
}

func (c UnfenceBroker) appendBody(b []byte) []byte {
	return binary.AppendVarint(binary.AppendVarint(b, int64(c.ID)), c.Epoch)
}

func (c CreateTopic) appendBody(b []byte) []byte {
	b = append(b, c.ID[:]...)
	b = appendString(b, c.Name)
	b = appendConfigs(b, c.Configs)
	return appendAssignment(b, c.Assignment)
}

func (c DeleteTopic) appendBody(b []byte) []byte { return append(b, c.ID[:]...) }

func (c CreatePartitions) appendBody(b []byte) []byte {
	return appendAssignment(append(b, c.ID[:]...), c.Assignment)
}

func (c AlterConfigs) appendBody(b []byte) []byte {
	b = append(b, byte(c.Resource))
	b = append(b, c.TopicID[:]...)
	b = appendBool(b, c.Replace)
	b = binary.AppendUvarint(b, uint64(len(c.Ops)))
	for _, op := range c.Ops {
		b = appendString(b, op.Key)
		b = appendString(b, op.Value)
		b = appendBool(b, op.Delete)
	}
	return b
}

func (c AllocateProducerIDs) appendBody(b []byte) []byte {
	return binary.AppendVarint(binary.AppendVarint(b, int64(c.BrokerID)), c.BrokerEpoch)
}

func (c ChangeISR) appendBody(b []byte) []byte {
	b = binary.AppendVarint(b, int64(c.BrokerID))
	b = binary.AppendVarint(b, c.BrokerEpoch)
	b = append(b, c.TopicID[:]...)
	b = binary.AppendVarint(b, int64(c.Partition))
	b = binary.AppendVarint(b, int64(c.LeaderEpoch))
	b = binary.AppendVarint(b, int64(c.PartitionEpoch))
	b = binary.AppendUvarint(b, uint64(len(c.ISR)))
	for _, m := range c.ISR {
		b = binary.AppendVarint(b, int64(m.BrokerID))
		b = binary.AppendVarint(b, m.BrokerEpoch)
	}
	return b
}

func (c ElectLeader) appendBody(b []byte) []byte {
	b = append(b, c.TopicID[:]...)
	b = binary.AppendVarint(b, int64(c.Partition))
	return binary.AppendVarint(b, int64(c.Election))
}

func (d *decoder) alterConfigs() AlterConfigs {
	c := AlterConfigs{Resource: ConfigResource(d.byte()), TopicID: d.id(), Replace: d.bool()}
	n := d.count(MaxConfigs*2, 3)
	if n > 0 {
		c.Ops = make([]ConfigOp, n)
	}
	for i := range c.Ops {
		c.Ops[i] = ConfigOp{Key: d.string(maxShortString), Value: d.string(maxConfigValueBytes), Delete: d.bool()}
	}
	return c
}

func (d *decoder) changeISR() ChangeISR {
	c := ChangeISR{BrokerID: d.int32(), BrokerEpoch: d.varint(), TopicID: d.id(), Partition: d.int32(),
		LeaderEpoch: d.int32(), PartitionEpoch: d.int32()}
	n := d.count(MaxReplicas, 2)
	if n > 0 {
		c.ISR = make([]ISRMember, n)
	}
	for i := range c.ISR {
		c.ISR[i] = ISRMember{BrokerID: d.int32(), BrokerEpoch: d.varint()}
	}
	return c
}

// snapshotMagic and snapshotVersion open every snapshot.
const (
	snapshotMagic   = "SLM"
	snapshotVersion = 0
)

// AppendSnapshot appends the whole state to dst, in a byte-for-byte
// deterministic form: equal states give equal bytes.
func (s *State) AppendSnapshot(dst []byte) []byte {
	b := append(dst, snapshotMagic...)
	b = append(b, snapshotVersion)
	b = appendString(b, s.clusterID)
	b = binary.AppendVarint(b, s.lastBrokerEpoch)
	b = binary.AppendVarint(b, s.nextProducerID)
	b = appendConfigs(b, s.configs)
	b = binary.AppendUvarint(b, uint64(len(s.brokers)))
	for _, br := range s.Brokers() {
		b = binary.AppendVarint(b, int64(br.ID))
		b = binary.AppendVarint(b, br.Epoch)
		b = append(b, br.IncarnationID[:]...)
		b = appendListeners(b, br.Listeners)
		b = appendString(b, br.Rack)
		b = appendBool(b, br.Fenced)
	}
	b = binary.AppendUvarint(b, uint64(len(s.topics)))
	for _, t := range s.Topics() {
		b = append(b, t.ID[:]...)
		b = appendString(b, t.Name)
		b = appendConfigs(b, t.Configs)
		b = binary.AppendUvarint(b, uint64(len(t.Partitions)))
		for _, p := range t.Partitions {
			b = appendInt32s(b, p.Replicas)
			b = appendInt32s(b, p.ISR)
			b = binary.AppendVarint(b, int64(p.Leader))
			b = binary.AppendVarint(b, int64(p.LeaderEpoch))
			b = binary.AppendVarint(b, int64(p.PartitionEpoch))
		}
	}
	return b
}

// Restore decodes a snapshot and checks its invariants.
func Restore(b []byte) (*State, error) {
	if len(b) < len(snapshotMagic)+1 || string(b[:len(snapshotMagic)]) != snapshotMagic {
		return nil, fmt.Errorf("%w: not a metadata snapshot", ErrCorrupt)
	}
	if v := b[len(snapshotMagic)]; v != snapshotVersion {
		return nil, fmt.Errorf("%w: snapshot version %d", ErrUnsupportedVersion, v)
	}
	d := &decoder{b: b[len(snapshotMagic)+1:]}
	s := New()
	s.clusterID = d.string(maxClusterIDLen)
	s.lastBrokerEpoch = d.varint()
	s.nextProducerID = d.varint()
	s.configs = d.configs()
	for n := d.count(1<<31, 20); n > 0 && d.err == nil; n-- {
		br := &Broker{ID: d.int32(), Epoch: d.varint(), IncarnationID: d.id(), Listeners: d.listeners(),
			Rack: d.string(maxShortString), Fenced: d.bool()}
		if s.brokers[br.ID] != nil {
			d.fail("broker %d twice", br.ID)
		}
		s.brokers[br.ID] = br
	}
	for n := d.count(1<<31, 20); n > 0 && d.err == nil; n-- {
		t := &Topic{ID: d.id(), Name: d.string(maxNameLen), Configs: d.configs()}
		np := d.count(MaxPartitions, 5)
		t.Partitions = make([]Partition, np)
		for i := range t.Partitions {
			t.Partitions[i] = Partition{Replicas: d.int32s(), ISR: d.int32s(), Leader: d.int32(),
				LeaderEpoch: d.int32(), PartitionEpoch: d.int32()}
		}
		if _, dup := s.names[t.Name]; dup || s.topics[t.ID] != nil {
			d.fail("topic %q twice", t.Name)
		}
		s.topics[t.ID] = t
		s.names[t.Name] = t.ID
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d bytes after the snapshot", len(d.b))
	}
	if d.err != nil {
		return nil, d.err
	}
	if err := s.Check(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return s, nil
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

func appendInt32s(b []byte, vs []int32) []byte {
	b = binary.AppendUvarint(b, uint64(len(vs)))
	for _, v := range vs {
		b = binary.AppendVarint(b, int64(v))
	}
	return b
}

func appendListeners(b []byte, ls []Listener) []byte {
	b = binary.AppendUvarint(b, uint64(len(ls)))
	for _, l := range ls {
		b = appendString(b, l.Name)
		b = appendString(b, l.Host)
		b = binary.AppendUvarint(b, uint64(l.Port))
	}
	return b
}

// appendConfigs writes keys in sorted order so equal maps encode equally.
func appendConfigs(b []byte, m map[string]string) []byte {
	b = binary.AppendUvarint(b, uint64(len(m)))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		b = appendString(b, k)
		b = appendString(b, m[k])
	}
	return b
}

func appendAssignment(b []byte, a [][]int32) []byte {
	b = binary.AppendUvarint(b, uint64(len(a)))
	for _, rs := range a {
		b = appendInt32s(b, rs)
	}
	return b
}

// decoder reads fields in order. The first error sticks and later reads
// return zero values, so a caller checks err once at the end.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
	}
	d.b = nil
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad uvarint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) int32() int32 {
	v := d.varint()
	if int64(int32(v)) != v {
		d.fail("%d overflows int32", v)
		return 0
	}
	return int32(v)
}

func (d *decoder) int8() int8 {
	v := d.varint()
	if int64(int8(v)) != v {
		d.fail("%d overflows int8", v)
		return 0
	}
	return int8(v)
}

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.fail("truncated")
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) bool() bool {
	switch d.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	d.fail("bad bool")
	return false
}

func (d *decoder) id() [16]byte {
	var id [16]byte
	if len(d.b) < 16 {
		d.fail("truncated id")
		return id
	}
	copy(id[:], d.b)
	d.b = d.b[16:]
	return id
}

// count reads a list length, refusing one above max or one that the bytes
// left could not hold at minSize bytes an element.
func (d *decoder) count(max, minSize int) int {
	n := d.uvarint()
	if n > uint64(max) || n > uint64(len(d.b)/minSize) {
		d.fail("count %d with %d bytes left", n, len(d.b))
		return 0
	}
	return int(n)
}

func (d *decoder) string(max int) string {
	n := d.uvarint()
	if n > uint64(max) || n > uint64(len(d.b)) {
		d.fail("%d-byte string with %d bytes left", n, len(d.b))
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) int32s() []int32 {
	n := d.count(MaxReplicas, 1)
	out := make([]int32, n)
	for i := range out {
		out[i] = d.int32()
	}
	return out
}

func (d *decoder) listeners() []Listener {
	n := d.count(MaxListeners, 3)
	out := make([]Listener, n)
	for i := range out {
		name, host := d.string(maxShortString), d.string(maxShortString)
		port := d.uvarint()
		if port > 65535 {
			d.fail("port %d", port)
		}
		out[i] = Listener{Name: name, Host: host, Port: uint16(port)}
	}
	return out
}

func (d *decoder) configs() map[string]string {
	n := d.count(MaxConfigs, 2)
	m := make(map[string]string, n)
	for ; n > 0; n-- {
		k := d.string(maxShortString)
		if _, dup := m[k]; dup {
			d.fail("config %q twice", k)
		}
		m[k] = d.string(maxConfigValueBytes)
	}
	return m
}

func (d *decoder) assignment() [][]int32 {
	n := d.count(MaxPartitions, 1)
	out := make([][]int32, n)
	for i := range out {
		out[i] = d.int32s()
	}
	return out
}
