package probe

import "strconv"

// Count writes n and the noun in the number n takes: Count(1, "reply",
// "replies") is "1 reply", Count(2, ...) "2 replies". Messages use it for
// every count that can be 1.
func Count(n int, one, many string) string {
	if n == 1 || n == -1 {
		return strconv.Itoa(n) + " " + one
	}
	return strconv.Itoa(n) + " " + many
}
