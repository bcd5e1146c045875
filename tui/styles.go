package tui

import (
	"image/color"

	"charm.land/lipgloss/v2"
)

// styles is the desktop's palette. Colours are chosen for both terminal
// backgrounds (lipgloss.LightDark, switched on tea.BackgroundColorMsg); Bubble
// Tea downsamples them to the terminal's colour profile and drops them
// entirely when the profile is Ascii or NoTTY (NO_COLOR), so no style here
// may carry meaning by colour alone — every state is also a word.
type styles struct {
	bar, barDim, warn, alert, good lipgloss.Style
	title, dim, banner, selected   lipgloss.Style
	keyName, overlay, rec          lipgloss.Style
}

func newStyles(dark bool) styles {
	ld := lipgloss.LightDark(dark)
	c := func(light, darkc string) color.Color { return ld(lipgloss.Color(light), lipgloss.Color(darkc)) }
	barBG := c("#D9DCE3", "#2A2F3A")
	return styles{
		bar:      lipgloss.NewStyle().Background(barBG).Foreground(c("#1B1F27", "#E6E9EF")),
		barDim:   lipgloss.NewStyle().Background(barBG).Foreground(c("#596070", "#9AA3B2")),
		warn:     lipgloss.NewStyle().Foreground(c("#8A5A00", "#F2C14E")).Bold(true),
		alert:    lipgloss.NewStyle().Foreground(c("#B00020", "#FF6B6B")).Bold(true),
		good:     lipgloss.NewStyle().Foreground(c("#1E7B34", "#7BD88F")),
		title:    lipgloss.NewStyle().Bold(true).Foreground(c("#1B3A8A", "#8AB4F8")),
		dim:      lipgloss.NewStyle().Foreground(c("#6B7280", "#8B93A1")),
		banner:   lipgloss.NewStyle().Foreground(c("#5B2A86", "#D7A8FF")).Bold(true),
		selected: lipgloss.NewStyle().Reverse(true),
		keyName:  lipgloss.NewStyle().Bold(true),
		overlay:  lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).Padding(0, 1),
		rec:      lipgloss.NewStyle().Foreground(c("#B00020", "#FF6B6B")).Bold(true),
	}
}
