//go:build ignore

// icon_png_gen renders icon.svg to icon.png with Fyne's own SVG
// rasteriser, at the size Fyne hands the window system for an SVG window
// icon (256×256): go generate ./assets.
package main

import (
	"bytes"
	"image/png"
	"log"
	"os"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/driver/software"
	"fyne.io/fyne/v2/test"
)

func main() {
	test.NewApp()
	svg, err := os.ReadFile("icon.svg")
	if err != nil {
		log.Fatal(err)
	}
	img := canvas.NewImageFromResource(fyne.NewStaticResource("kite.svg", svg))
	c := software.NewTransparentCanvas()
	c.SetContent(img)
	c.SetPadded(false)
	c.Resize(fyne.NewSquareSize(256))
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, c.Capture()); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("icon.png", buf.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}
