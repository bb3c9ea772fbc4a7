package app

import (
	"context"

	"kite/app/pb"
)

// SendEphemeral sends view-once media held in memory only. Stub until
// the view-once work lands: it refuses clearly.
func (s *Service) SendEphemeral(ctx context.Context, conv ConvID, data []byte, m *pb.Media) (Event, error) {
	return Event{}, Userf(ErrInvalid, "view-once media is not available in this build yet")
}
