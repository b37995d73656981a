package autodiff

import (
	"maps"
	"math"

	"github.com/lsweep/lsweep/internal/onnxpb"
	"github.com/lsweep/lsweep/onnx"
)

// Rules for elementwise activations and functions beyond those of CNNs:
// Sin, Cos, HardSigmoid, HardSwish, Elu, Selu, Softsign and PRelu. Each is
// written as "the gradient is dy times the slope at x" (slope below), and
// its forward rule as "the tangent is dx times the same slope", so that the
// two are one function and the product of a model is the derivative of its
// gradient graph as built. Where a slope jumps (the kinks of HardSigmoid,
// HardSwish, Elu, Selu and PRelu), the side chosen at the kink is PyTorch's.

func init() {
	maps.Copy(gradRules, map[string]gradRule{
		"Sin":         gradBySlope,
		"Cos":         gradBySlope,
		"HardSigmoid": gradBySlope,
		"HardSwish":   gradBySlope,
		"Elu":         gradBySlope,
		"Selu":        gradBySlope,
		"Softsign":    gradBySlope,
		"PRelu":       gradPRelu,
	})
	maps.Copy(tangentRules, map[string]tangentRule{
		"Sin":         tanBySlope,
		"Cos":         tanBySlope,
		"HardSigmoid": tanBySlope,
		"HardSwish":   tanBySlope,
		"Elu":         tanBySlope,
		"Selu":        tanBySlope,
		"Softsign":    tanBySlope,
		"PRelu":       tanPRelu,
	})
}

// Default attributes, as float32 values (what the kernels use).
const (
	seluAlpha = 1.67326319217681884765625
	seluGamma = 1.05070102214813232421875
)

// slope returns the derivative of the elementwise op n at its input, shaped
// like its output.
func (b *gradBuilder) slope(n *onnxpb.NodeProto) (string, error) {
	x, y := input(n, 0), n.GetOutput()[0]
	dt := b.dt(x)
	c := func(v float64) string { return b.cf(dt, v) }
	f32 := func(name string, def float64) float64 { return float64(float32(attrFloat(n, name, def))) }
	var d string
	switch n.GetOpType() {
	case "Sin":
		d = b.cos(x)
	case "Cos":
		d = b.op("Neg", []string{b.op("Sin", []string{x})})
	case "HardSigmoid":
		// alpha inside the linear piece, where 0 < y < 1; 0 on the flat
		// pieces and at the kinks.
		in := b.op("And", []string{b.op("Greater", []string{y, c(0)}), b.op("Less", []string{y, c(1)})})
		d = b.op("Where", []string{in, c(f32("alpha", 0.2)), c(0)})
	case "HardSwish":
		// 0 below -3, x/3 + 1/2 on [-3, 3], 1 above 3.
		mid := b.op("Add", []string{b.op("Mul", []string{x, c(1.0 / 3)}), c(0.5)})
		d = b.op("Where", []string{b.op("Greater", []string{x, c(3)}), c(1),
			b.op("Where", []string{b.op("Less", []string{x, c(-3)}), c(0), mid})})
	case "Elu":
		// 1 for x > 0, else alpha e^x = y + alpha.
		d = b.op("Where", []string{b.op("Greater", []string{x, c(0)}), c(1), b.op("Add", []string{y, c(f32("alpha", 1))})})
	case "Selu":
		g, a := f32("gamma", seluGamma), f32("alpha", seluAlpha)
		d = b.op("Where", []string{b.op("Greater", []string{x, c(0)}), c(g), b.op("Add", []string{y, c(g * a)})})
	case "Softsign":
		den := b.op("Add", []string{c(1), b.op("Abs", []string{x})})
		d = b.op("Reciprocal", []string{b.op("Mul", []string{den, den})})
	default:
		return "", b.noGrad("no slope for %s", n.GetOpType())
	}
	return b.expandTo(b.like(d, y), y), nil
}

// cos returns cos(x); for double x as sin(x + pi/2), ONNX Runtime having
// no double kernel of Cos (it has one of Sin).
func (b *gradBuilder) cos(x string) string {
	if dt := b.dt(x); dt == onnx.Double {
		return b.like(b.op("Sin", []string{b.op("Add", []string{x, b.cf(dt, math.Pi/2)})}), x)
	}
	return b.like(b.op("Cos", []string{x}), x)
}

func gradBySlope(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	d, err := b.slope(n)
	if err != nil {
		return nil, err
	}
	return []string{b.like(b.op("Mul", []string{dy[0], d}), input(n, 0))}, nil
}

func tanBySlope(b *gradBuilder, n *onnxpb.NodeProto, dx []string) ([]string, error) {
	d, err := b.slope(n)
	if err != nil {
		return nil, err
	}
	return []string{b.like(b.op("Mul", []string{dx[0], d}), n.GetOutput()[0])}, nil
}

// gradPRelu: y = x where x > 0, slope * x elsewhere (the slope broadcast to
// x), so dx = dy or dy * slope, and dslope = dy * x where x <= 0, summed to
// the slope's shape.
func gradPRelu(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	x, s, y := input(n, 0), input(n, 1), n.GetOutput()[0]
	zero := b.cf(b.dt(x), 0)
	pos := b.op("Greater", []string{x, zero})
	out := make([]string, len(need))
	if need[0] {
		out[0] = b.like(b.op("Where", []string{pos, dy[0], b.op("Mul", []string{dy[0], s})}), x)
	}
	if need[1] {
		g, err := b.sumTo(b.like(b.op("Where", []string{pos, zero, b.op("Mul", []string{dy[0], x})}), y), y, s)
		if err != nil {
			return nil, err
		}
		out[1] = g
	}
	return out, nil
}

func tanPRelu(b *gradBuilder, n *onnxpb.NodeProto, dx []string) ([]string, error) {
	x, s, y := input(n, 0), input(n, 1), n.GetOutput()[0]
	zero := b.cf(b.dt(x), 0)
	pos := b.op("Greater", []string{x, zero})
	var neg []string // the tangent where x <= 0
	if dx[0] != "" {
		neg = append(neg, b.like(b.op("Mul", []string{dx[0], s}), y))
	}
	if dx[1] != "" {
		neg = append(neg, b.like(b.op("Mul", []string{x, dx[1]}), y))
	}
	posT := zero
	if dx[0] != "" {
		posT = dx[0]
	}
	return []string{b.expandTo(b.like(b.op("Where", []string{pos, posT, b.sum(neg...)}), y), y)}, nil
}
