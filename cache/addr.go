package cache

// Addr is a byte address, as carried by trace events.
type Addr uint64

// Line is a line address: a byte address divided by the line size. Keeping
// the two apart in the type system stops a byte address from being used as
// a set index by accident.
type Line uint64

// maxLine bounds line addresses so that the top four bits of a tag word are
// free for the valid, dirty, untouched and prefetched flags. Lines are at
// least 16 bytes, so every 64-bit byte address has a line below it.
const maxLine = 1<<60 - 1
