//go:build !faultinject

// Package faults marks the points where a crash matters most, so that the
// crash-consistency tests can kill dcrctl exactly there. In normal builds a
// point does nothing; the tests build with -tags faultinject.
package faults

// Point marks a step boundary named name.
func Point(name string) {}
