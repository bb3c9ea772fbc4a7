package app

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"kite/app/pb"
)

func checkGroupName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > MaxGroupName {
		return "", Userf(ErrInvalid, "a group name is 1 to %d characters", MaxGroupName)
	}
	return name, nil
}

// CreateGroup makes a group of this device and members, with this device
// as its admin.
func (s *Service) CreateGroup(ctx context.Context, name string, members []PeerKey, e2e bool) (ConvID, error) {
	name, err := checkGroupName(name)
	if err != nil {
		return ConvID{}, err
	}
	set := map[PeerKey]bool{s.me: true}
	list := [][]byte{s.me[:]}
	for _, m := range members {
		if set[m] {
			continue
		}
		p, err := s.store.Person(ctx, m)
		switch {
		case err != nil:
			return ConvID{}, Userf(ErrNotFound, "%s is not someone you know: add their contact code first", m)
		case p.Blocked:
			return ConvID{}, Userf(ErrBlocked, "you blocked %s", p.DisplayName())
		case e2e && p.BoxKey.IsZero():
			return ConvID{}, Userf(ErrInvalid, "no encryption key for %s yet", p.DisplayName())
		}
		set[m] = true
		list = append(list, m[:])
	}
	if len(list) < 2 {
		return ConvID{}, Userf(ErrInvalid, "a group needs at least one other member")
	}
	if len(list) > MaxGroupMembers {
		return ConvID{}, Userf(ErrTooLarge, "a group has at most %d members", MaxGroupMembers)
	}
	id, err := randomConvID()
	if err != nil {
		return ConvID{}, fmt.Errorf("app: create group: %w", err)
	}
	// The group does not exist until its first event is stored, so the
	// conversation here is only what append needs to know.
	c := Conversation{ID: id, Kind: Group}
	body := &pb.Body{Content: &pb.Body_GroupCreate{GroupCreate: &pb.GroupCreate{Name: name, Members: list, E2E: e2e}}}
	if _, err := s.append(ctx, c, KindGroupCreate, body); err != nil {
		return ConvID{}, err
	}
	return id, nil
}

// group reads a group this device is in, optionally requiring admin.
func (s *Service) group(ctx context.Context, conv ConvID, admin bool) (Conversation, map[PeerKey]Member, error) {
	c, err := s.writable(ctx, conv)
	if err != nil {
		return c, nil, err
	}
	if c.Kind != Group {
		return c, nil, Userf(ErrInvalid, "that is not a group")
	}
	ms, err := s.store.Members(ctx, conv)
	if err != nil {
		return c, nil, fmt.Errorf("app: read members: %w", err)
	}
	byKey := make(map[PeerKey]Member, len(ms))
	for _, m := range ms {
		byKey[m.Key] = m
	}
	me, ok := byKey[s.me]
	if !ok {
		return c, nil, Userf(ErrNotMember, "you are not in this group")
	}
	if admin && !me.Admin {
		return c, nil, Userf(ErrNotAdmin, "only group admins can change who is in the group")
	}
	return c, byKey, nil
}

// RenameGroup renames a group; any member may.
func (s *Service) RenameGroup(ctx context.Context, conv ConvID, name string) (Event, error) {
	name, err := checkGroupName(name)
	if err != nil {
		return Event{}, err
	}
	c, _, err := s.group(ctx, conv, false)
	if err != nil {
		return Event{}, err
	}
	return s.append(ctx, c, KindRename, &pb.Body{Content: &pb.Body_Rename{Rename: &pb.Rename{Name: name}}})
}

// AddMembers adds people to a group; admins only.
func (s *Service) AddMembers(ctx context.Context, conv ConvID, add []PeerKey) (Event, error) {
	c, members, err := s.group(ctx, conv, true)
	if err != nil {
		return Event{}, err
	}
	if len(add) == 0 {
		return Event{}, Userf(ErrInvalid, "say who to add")
	}
	var list [][]byte
	for _, k := range add {
		if _, ok := members[k]; ok {
			return Event{}, Userf(ErrInvalid, "%s is already in the group", k)
		}
		p, err := s.store.Person(ctx, k)
		if err != nil {
			return Event{}, Userf(ErrNotFound, "%s is not someone you know: add their contact code first", k)
		}
		if p.Blocked {
			return Event{}, Userf(ErrBlocked, "you blocked %s", p.DisplayName())
		}
		list = append(list, k[:])
	}
	if len(members)+len(list) > MaxGroupMembers {
		return Event{}, Userf(ErrTooLarge, "a group has at most %d members", MaxGroupMembers)
	}
	return s.append(ctx, c, KindAdd, &pb.Body{Content: &pb.Body_Add{Add: &pb.Members{Members: list}}})
}

// RemoveMembers removes people from a group; admins only.
func (s *Service) RemoveMembers(ctx context.Context, conv ConvID, remove []PeerKey) (Event, error) {
	c, members, err := s.group(ctx, conv, true)
	if err != nil {
		return Event{}, err
	}
	if len(remove) == 0 {
		return Event{}, Userf(ErrInvalid, "say who to remove")
	}
	var list [][]byte
	for _, k := range remove {
		if k == s.me {
			return Event{}, Userf(ErrInvalid, "to leave the group, use leave")
		}
		if _, ok := members[k]; !ok {
			return Event{}, Userf(ErrNotMember, "%s is not in the group", k)
		}
		list = append(list, k[:])
	}
	return s.append(ctx, c, KindRemove, &pb.Body{Content: &pb.Body_Remove{Remove: &pb.Members{Members: list}}})
}

// PromoteAdmin makes a member an admin; admins only.
func (s *Service) PromoteAdmin(ctx context.Context, conv ConvID, who PeerKey) (Event, error) {
	c, members, err := s.group(ctx, conv, true)
	if err != nil {
		return Event{}, err
	}
	m, ok := members[who]
	switch {
	case !ok:
		return Event{}, Userf(ErrNotMember, "%s is not in the group", who)
	case m.Admin:
		return Event{}, Userf(ErrInvalid, "%s is already an admin", who)
	}
	return s.append(ctx, c, KindPromote, &pb.Body{Content: &pb.Body_Promote{Promote: &pb.Members{Members: [][]byte{who[:]}}}})
}

// LeaveGroup leaves a group.
func (s *Service) LeaveGroup(ctx context.Context, conv ConvID) (Event, error) {
	c, _, err := s.group(ctx, conv, false)
	if err != nil {
		return Event{}, err
	}
	return s.append(ctx, c, KindLeave, &pb.Body{Content: &pb.Body_Leave{Leave: &pb.Leave{}}})
}
