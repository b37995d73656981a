package flatness_test

import (
	"fmt"

	"github.com/lsweep/lsweep/flatness"
)

// The verdict rule on made-up numbers: the candidate's loss increase at
// radius r along four paired directions.
func ExampleJudge() {
	info, _ := flatness.Info(flatness.MeanIncrease)
	base := flatness.Sample{Value: 1.0, PerDirection: []float64{0.8, 1.2, 0.9, 1.1}}
	rule := flatness.Rule{Checked: true, Threshold: 10}

	// Up by 0.05 on average, but by -0.1 to +0.2 along the directions:
	// within the spread of the paired differences, so no difference.
	noisy := flatness.Sample{Value: 1.05, PerDirection: []float64{0.7, 1.4, 0.9, 1.2}}
	r := flatness.Judge(info, base, noisy, rule)
	fmt.Printf("%s, pass %v (change %+.0f%%, noise ±%.2f)\n", r.Status, r.Pass, r.Change, r.Noise)

	// Up by 0.3 along every direction: beyond the noise, and by more than 10%.
	sharper := flatness.Sample{Value: 1.3, PerDirection: []float64{1.1, 1.5, 1.2, 1.4}}
	r = flatness.Judge(info, base, sharper, rule)
	fmt.Printf("%s, pass %v (change %+.0f%%, noise ±%.2f)\n", r.Status, r.Pass, r.Change, r.Noise)

	verdict, finding := flatness.Decide([]flatness.MetricResult{r})
	fmt.Println(verdict, finding)
	// Output:
	// same, pass true (change +5%, noise ±0.13)
	// worse, pass false (change +30%, noise ±0.00)
	// fail sharper
}
