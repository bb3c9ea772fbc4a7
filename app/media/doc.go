// Package media owns inspecting and preparing media files before they become
// blobs: it sniffs a file's type from its content, reads image dimensions and
// audio or video durations from headers, strips metadata (EXIF, GPS) from
// photos, makes the small thumbnails that travel inside events, fetches link
// previews for the sender, and builds map links for shared locations.
//
// It never touches the network except in FetchPreview, the sender-side link
// preview fetcher, and it never touches the store: callers hand it bytes or an
// io.ReaderAt and get bytes and facts back.
//
// Decoding untrusted images is bounded: headers are checked against MaxPixels
// before any pixel is decoded, at most two decodes run at once, and each must
// finish within DecodeTimeout.
package media
