package cases

// ReporterStage is where a case stands in the words a reporter reads: no
// internal status, no reason, no name.
type ReporterStage string

const (
	StageReceived ReporterStage = "received" // new, nobody on it yet
	StageHandling ReporterStage = "handling" // taken or contained: the security team is on it
	StageDone     ReporterStage = "done"     // resolved: the address is off the account
	StageClosed   ReporterStage = "closed"   // dismissed: closed without action on the account
)

// reporterStage maps a case's status, and whether someone took it, to
// what the reporter's status page says.
func reporterStage(st Status, assigned bool) ReporterStage {
	switch st {
	case StatusNew:
		if assigned {
			return StageHandling
		}
		return StageReceived
	case StatusContained:
		return StageHandling
	case StatusResolved:
		return StageDone
	}
	return StageClosed
}
