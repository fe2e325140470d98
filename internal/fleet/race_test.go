//go:build race

package fleet

// raceEnabled: the race detector slows every process down several times
// (and makes a killed worker's exit slower: its shadow memory is torn
// down before the kernel drops its locks).
const raceEnabled = true
