package filestore

// Encode is encode, for tests that craft token files.
var Encode = encode
