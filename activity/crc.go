package activity

// fitCRCTable is the byte-wise table of the FIT CRC (CRC-16/ARC: reflected
// polynomial 0xA001, initial value 0). The FIT SDK's reference nibble-wise
// algorithm gives the same values at half the speed; the whole file passes
// through this function, so it matters for throughput.
var fitCRCTable = func() (t [256]uint16) {
	for i := range t {
		crc := uint16(i)
		for range 8 {
			if crc&1 != 0 {
				crc = crc>>1 ^ 0xA001
			} else {
				crc >>= 1
			}
		}
		t[i] = crc
	}
	return t
}()

func fitCRC(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc = crc>>8 ^ fitCRCTable[byte(crc)^c]
	}
	return crc
}
