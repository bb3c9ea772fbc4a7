package media

import (
	"math"
	"strconv"
)

// OSMLink returns an OpenStreetMap link that puts a marker at lat, lon at
// street zoom, such as
// https://www.openstreetmap.org/?mlat=52.52&mlon=13.405#map=16/52.52/13.405.
// Coordinates are written with at most 6 decimals (about 10 cm). Longitudes
// outside ±180 are wrapped; a latitude outside ±90 or a NaN or infinite
// coordinate gives "".
func OSMLink(lat, lon float64) string {
	if math.IsNaN(lat) || math.IsNaN(lon) || math.IsInf(lat, 0) || math.IsInf(lon, 0) || lat < -90 || lat > 90 {
		return ""
	}
	if lon < -180 || lon > 180 {
		lon = math.Mod(lon+180, 360)
		if lon < 0 {
			lon += 360
		}
		lon -= 180
	}
	la, lo := coord(lat), coord(lon)
	return "https://www.openstreetmap.org/?mlat=" + la + "&mlon=" + lo + "#map=16/" + la + "/" + lo
}

func coord(f float64) string {
	s := strconv.FormatFloat(math.Round(f*1e6)/1e6, 'f', -1, 64)
	if s == "-0" {
		s = "0"
	}
	return s
}
