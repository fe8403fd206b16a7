package pipeline

// pendingQueue is a min-heap of pending files by deadline.
type pendingQueue []*pendingFile

func (q pendingQueue) Len() int           { return len(q) }
func (q pendingQueue) Less(i, j int) bool { return q[i].due.Before(q[j].due) }
func (q pendingQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index, q[j].index = i, j
}
func (q *pendingQueue) Push(x any) {
	f := x.(*pendingFile)
	f.index = len(*q)
	*q = append(*q, f)
}
func (q *pendingQueue) Pop() any {
	old := *q
	f := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return f
}
