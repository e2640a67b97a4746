// Command worldmap turns Natural Earth's 1:110m land (world-atlas's
// land-110m.json, TopoJSON) into the SVG path the HTML report draws its map
// with, in an equirectangular projection: x = longitude + 180, y = 90 -
// latitude, a tenth of a degree apart.
//
//	npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz
//	go run ./scripts/worldmap package/land-110m.json > internal/report/assets/land.txt
package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strings"
)

type topology struct {
	Transform struct {
		Scale     [2]float64 `json:"scale"`
		Translate [2]float64 `json:"translate"`
	} `json:"transform"`
	Arcs    [][][2]float64 `json:"arcs"`
	Objects struct {
		Land struct {
			Geometries []struct {
				Type string          `json:"type"`
				Arcs json.RawMessage `json:"arcs"`
			} `json:"geometries"`
		} `json:"land"`
	} `json:"objects"`
}

func main() {
	b, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var t topology
	if err := json.Unmarshal(b, &t); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// decode the delta-encoded, quantized arcs into degrees
	arcs := make([][][2]float64, len(t.Arcs))
	for i, a := range t.Arcs {
		var x, y float64
		for _, p := range a {
			x, y = x+p[0], y+p[1]
			arcs[i] = append(arcs[i], [2]float64{x*t.Transform.Scale[0] + t.Transform.Translate[0], y*t.Transform.Scale[1] + t.Transform.Translate[1]})
		}
	}
	ring := func(idx []int) [][2]float64 {
		var pts [][2]float64
		for k, i := range idx {
			var a [][2]float64
			if i >= 0 {
				a = arcs[i]
			} else {
				src := arcs[^i]
				for j := len(src) - 1; j >= 0; j-- {
					a = append(a, src[j])
				}
			}
			if k > 0 {
				a = a[1:]
			}
			pts = append(pts, a...)
		}
		return pts
	}
	var path strings.Builder
	emit := func(r [][2]float64) {
		last := ""
		n := 0
		for i, p := range r {
			s := fmt.Sprintf("%g %g", round(p[0]+180), round(90-p[1]))
			if s == last {
				continue
			}
			if i == 0 {
				path.WriteString("M" + s)
			} else {
				path.WriteString("L" + s)
			}
			last = s
			n++
		}
		path.WriteString("Z")
	}
	for _, g := range t.Objects.Land.Geometries {
		switch g.Type {
		case "Polygon":
			var rings [][]int
			json.Unmarshal(g.Arcs, &rings)
			for _, r := range rings {
				emit(ring(r))
			}
		case "MultiPolygon":
			var polys [][][]int
			json.Unmarshal(g.Arcs, &polys)
			for _, p := range polys {
				for _, r := range p {
					emit(ring(r))
				}
			}
		}
	}
	fmt.Println(path.String())
}

func round(v float64) float64 { return math.Round(v*10) / 10 }
