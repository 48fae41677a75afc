package cli

import (
	"context"
	"fmt"
)

// ClusterInfo prints the cluster ID, the controller and the brokers.
func (s *Session) ClusterInfo(ctx context.Context) error {
	if err := s.tableOnly(); err != nil {
		return err
	}
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	m, err := s.adm.BrokerMetadata(ctx)
	if err != nil {
		return s.wrap(ctx, "cluster info", err)
	}
	type broker struct {
		NodeID int32   `json:"node_id"`
		Host   string  `json:"host"`
		Port   int32   `json:"port"`
		Rack   *string `json:"rack"`
	}
	brokers := []broker{}
	for _, b := range m.Brokers {
		brokers = append(brokers, broker{b.NodeID, b.Host, b.Port, b.Rack})
	}
	if s.json() {
		return writeJSON(s.out, struct {
			ClusterID  string   `json:"cluster_id"`
			Controller int32    `json:"controller"`
			Brokers    []broker `json:"brokers"`
		}{m.Cluster, m.Controller, brokers})
	}
	fmt.Fprintf(s.out, "cluster:     %s\ncontroller:  %d\n\n", m.Cluster, m.Controller)
	t := newTable(s.out, "ID", "HOST", "PORT", "RACK")
	for _, b := range brokers {
		rack := "-"
		if b.Rack != nil {
			rack = *b.Rack
		}
		t.row(b.NodeID, b.Host, b.Port, rack)
	}
	return t.flush()
}
