package sdp

import "testing"

func TestDirection(t *testing.T) {
	tests := []struct {
		d             Direction
		str           string
		reverse       Direction
		sends, recvs  bool
		parsed, valid bool
	}{
		{SendRecv, "sendrecv", SendRecv, true, true, true, true},
		{SendOnly, "sendonly", RecvOnly, true, false, true, true},
		{RecvOnly, "recvonly", SendOnly, false, true, true, true},
		{Inactive, "inactive", Inactive, false, false, true, true},
		{Direction(7), "Direction(7)", Inactive, false, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.str, func(t *testing.T) {
			if got := tt.d.String(); got != tt.str {
				t.Errorf("String = %q", got)
			}
			if got := tt.d.Reverse(); got != tt.reverse {
				t.Errorf("Reverse = %v, want %v", got, tt.reverse)
			}
			if tt.d.Sends() != tt.sends || tt.d.Receives() != tt.recvs {
				t.Errorf("Sends, Receives = %v, %v", tt.d.Sends(), tt.d.Receives())
			}
			if d, ok := parseDirection(tt.str); ok != tt.parsed || (ok && d != tt.d) {
				t.Errorf("parseDirection = %v, %v", d, ok)
			}
			if tt.d.valid() != tt.valid {
				t.Errorf("valid = %v", tt.d.valid())
			}
		})
	}
}

// TestIntersect is the answerer's table of RFC 3264 §6.1: what we answer
// (ours ∩ reverse of theirs) for each offered direction and each of ours.
func TestIntersect(t *testing.T) {
	tests := []struct{ ours, offered, want Direction }{
		{SendRecv, SendRecv, SendRecv},
		{SendRecv, SendOnly, RecvOnly},
		{SendRecv, RecvOnly, SendOnly},
		{SendRecv, Inactive, Inactive},
		{SendOnly, SendRecv, SendOnly},
		{SendOnly, SendOnly, Inactive},
		{SendOnly, RecvOnly, SendOnly},
		{RecvOnly, SendOnly, RecvOnly},
		{RecvOnly, RecvOnly, Inactive},
		{Inactive, SendRecv, Inactive},
	}
	for _, tt := range tests {
		if got := intersect(tt.ours, tt.offered.Reverse()); got != tt.want {
			t.Errorf("ours %v, offered %v: answer %v, want %v", tt.ours, tt.offered, got, tt.want)
		}
	}
}
