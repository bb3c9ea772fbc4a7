package store

import (
	"context"
	"fmt"

	"kite/app"
)

// OpenedBy lists the authors of "opened" events for target (view-once
// media), in the order of their keys.
func (s *Store) OpenedBy(ctx context.Context, target app.EventID) ([]app.PeerKey, error) {
	rows, err := s.rq.QueryContext(ctx, `SELECT author FROM opened WHERE target = ? ORDER BY author`, target[:])
	if err != nil {
		return nil, fmt.Errorf("store: opened by: %w", err)
	}
	defer rows.Close()
	var out []app.PeerKey
	for rows.Next() {
		var a []byte
		if err := rows.Scan(&a); err != nil {
			return nil, fmt.Errorf("store: opened by: %w", err)
		}
		out = append(out, key32(a))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: opened by: %w", err)
	}
	return out, nil
}
