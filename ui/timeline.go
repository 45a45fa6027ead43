package ui

// eventLabel names an event type in English; an unknown one reads as its
// words.
func eventLabel(typ string) string { return eventLabelIn(langEN, typ) }
