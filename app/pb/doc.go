// Package pb holds the generated protobuf types of Kite's log: the signed
// event header, the event, and every body kind (kite.proto). It owns the
// schema and nothing else; regenerate with
// `protoc --go_out=. --go_opt=paths=source_relative kite.proto`.
// Never edit kite.pb.go by hand.
package pb
