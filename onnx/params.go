package onnx

import (
	"errors"
	"fmt"
	"strings"

	"github.com/lsweep/lsweep/internal/onnxpb"
)

// ErrNoWeights is returned (wrapped) by Perturbable when a model has no
// weight the method can perturb (an integer-only or tree model, say).
var ErrNoWeights = errors.New("onnx: no perturbable weights")

// Role says what a stored tensor is for.
type Role string

// Roles of stored tensors.
const (
	RoleWeight    Role = "weight"     // a Conv, ConvTranspose, Gemm or MatMul weight: perturbed filter-wise
	RoleBias      Role = "bias"       // a rank-1 bias of those ops, or added to their output
	RoleBNScale   Role = "bn_scale"   // BatchNormalization scale (gamma)
	RoleBNBias    Role = "bn_bias"    // BatchNormalization shift (beta)
	RoleBNMean    Role = "bn_mean"    // BatchNormalization running mean: a state, not trained
	RoleBNVar     Role = "bn_var"     // BatchNormalization running variance: a state, not trained
	RoleNormScale Role = "norm_scale" // Instance/Layer/RMS normalisation scale, fused or written out
	RoleNormBias  Role = "norm_bias"  // Instance/Layer normalisation shift, fused or written out
	// RoleEmbedding is a table read a row at a time: a Gather table [V, D]
	// (token embeddings), or a position table or class token added to or
	// concatenated with the activations. Its filters are its rows (one per
	// token or position); directions leave it out unless asked.
	RoleEmbedding Role = "embedding"
	// RoleConstant is a Constant node's float value that no weight, bias or
	// normalisation input takes: an exporter's constant (an epsilon, GELU's
	// 0.5, an attention scale, a causal mask), never perturbed.
	RoleConstant Role = "constant"
	RoleOther    Role = "other"   // any other float tensor (a constant multiplier, say)
	RoleInteger  Role = "integer" // a non-float tensor (shapes, indices): never perturbed
)

// IsState reports whether a tensor of this role is a running statistic
// rather than a trained parameter.
func (r Role) IsState() bool { return r == RoleBNMean || r == RoleBNVar }

// Param is one stored tensor of a model: an initializer or the value of a
// Constant node (some exporters keep weights there).
type Param struct {
	Name  string // the name the graph uses for the value
	Shape []int64
	DType DataType
	Role  Role
	// Consumer is the op type that gives the tensor its role ("Conv", "Gemm",
	// "BatchNormalization", ...), empty when nothing classifies it.
	Consumer string
	// ConsumerNode is that node's name (or its first output when unnamed).
	ConsumerNode string
	// ConsumerIndex is that node's position in the graph's node list, -1 when
	// nothing classifies the tensor. Exporters write nodes in execution
	// order, so it orders weights by depth whatever their names.
	ConsumerIndex int
	// Via lists the op types between the stored tensor and its consumer
	// (Transpose, Reshape, Cast, ...), in graph order.
	Via []string
	// FilterAxis is, for weights, the axis of the stored tensor whose slices
	// each produce one output unit (METHOD.md); -1 when no single axis does (a
	// reshape that mixes the output axis with others), in which case the
	// tensor is normalised as one filter. -1 for every other role.
	FilterAxis int
	// FilterView is nil unless the weight reaches its consumer through a
	// reshape that leaves the stored tensor without an axis of its own (a flat
	// vector reshaped to a matrix, say); then the filters are the slices along
	// FilterAxis of the stored data read row-major in this shape.
	FilterView []int64
	// Constant is true when the value lives in a Constant node.
	Constant bool
	// External is true when the value is stored in an external data file.
	External bool
}

// Size returns the number of elements.
func (p Param) Size() int64 { return NumElements(p.Shape) }

// Label returns a name a person can place: the tensor's own name, or for an
// anonymous one (onnx::MatMul_367, as torch names the tensors that constant
// folding makes) the path of the node that consumes it, without the op:
// /encoder/layers.0/mlp/fc1/MatMul gives /encoder/layers.0/mlp/fc1.
func (p Param) Label() string {
	if !anonymous(p.Name) || p.ConsumerNode == "" {
		return p.Name
	}
	if i := strings.LastIndexByte(p.ConsumerNode, '/'); i > 0 {
		return p.ConsumerNode[:i]
	}
	return p.ConsumerNode
}

// anonymous reports whether an exporter made the name up rather than taking
// it from the model's parameters: torch's onnx::<Op>_<k>, or a bare number.
func anonymous(name string) bool {
	if strings.HasPrefix(name, "onnx::") {
		return true
	}
	return name != "" && strings.Trim(name, "0123456789") == ""
}

// graphIndex is the lookups the analyses need over a graph.
type graphIndex struct {
	m         *Model
	inits     map[string]*onnxpb.TensorProto
	constants map[string]*onnxpb.TensorProto // Constant-node outputs
	consumers map[string][]use
	producers map[string]*onnxpb.NodeProto
}

type use struct {
	node  *onnxpb.NodeProto
	input int
	index int // the node's position in the graph
}

func newGraphIndex(m *Model) *graphIndex {
	g := m.graph()
	ix := &graphIndex{
		m:         m,
		inits:     make(map[string]*onnxpb.TensorProto),
		constants: make(map[string]*onnxpb.TensorProto),
		consumers: make(map[string][]use),
		producers: make(map[string]*onnxpb.NodeProto),
	}
	for _, t := range g.GetInitializer() {
		ix.inits[t.GetName()] = t
	}
	for k, n := range g.GetNode() {
		for i, in := range n.GetInput() {
			if in != "" {
				ix.consumers[in] = append(ix.consumers[in], use{n, i, k})
			}
		}
		for _, out := range n.GetOutput() {
			if _, ok := ix.producers[out]; !ok && out != "" {
				ix.producers[out] = n
			}
		}
		if n.GetOpType() == "Constant" && n.GetDomain() == "" && len(n.GetOutput()) == 1 {
			if a := n.Attr("value"); a != nil && a.GetT() != nil {
				ix.constants[n.GetOutput()[0]] = a.GetT()
			}
		}
	}
	return ix
}

// stored returns the tensor stored under a value name, or nil.
func (ix *graphIndex) stored(name string) *onnxpb.TensorProto {
	if t, ok := ix.inits[name]; ok {
		return t
	}
	return ix.constants[name]
}

// ints returns the values of a stored integer tensor, or nil if name is not
// a readable stored tensor.
func (ix *graphIndex) ints(name string) []int64 {
	t := ix.stored(name)
	if t == nil {
		return nil
	}
	v, err := ix.m.readTensor(t)
	if err != nil {
		return nil
	}
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out
}

// Params returns every stored tensor of the main graph with its role:
// initializers in file order, then Constant-node values in node order.
func (m *Model) Params() []Param {
	ix := newGraphIndex(m)
	var out []Param
	add := func(name string, t *onnxpb.TensorProto, constant bool) {
		p := Param{
			Name:          name,
			Shape:         append([]int64(nil), t.GetDims()...),
			DType:         DataType(t.GetDataType()),
			FilterAxis:    -1,
			ConsumerIndex: -1,
			Constant:      constant,
			External:      t.GetDataLocation() == onnxpb.TensorProto_EXTERNAL,
		}
		ix.classify(&p)
		out = append(out, p)
	}
	for _, t := range m.graph().GetInitializer() {
		add(t.GetName(), t, false)
	}
	for _, n := range m.graph().GetNode() {
		if n.GetOpType() != "Constant" || len(n.GetOutput()) != 1 {
			continue
		}
		if t := ix.constants[n.GetOutput()[0]]; t != nil {
			add(n.GetOutput()[0], t, true)
		}
	}
	return out
}

// Perturbable returns the weights (RoleWeight) of the model, in Params order.
// It returns an error wrapping ErrNoWeights when there are none.
func (m *Model) Perturbable() ([]Param, error) {
	var out []Param
	for _, p := range m.Params() {
		if p.Role == RoleWeight {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %s has no float tensor feeding the weight input of a Conv, ConvTranspose, Gemm or MatMul", ErrNoWeights, m.Path)
	}
	return out, nil
}

// viewStep is one pass-through op between a stored tensor and its consumer,
// with the shape before and after it.
type viewStep struct {
	op      string
	in, out []int64
	perm    []int64 // Transpose only
}

// passThrough lists the ops a weight may pass through on its way to its
// consumer without ceasing to be that weight.
var passThrough = map[string]bool{
	"Identity": true, "Cast": true, "Transpose": true, "Reshape": true,
	"Squeeze": true, "Unsqueeze": true, "Flatten": true,
}

// classify fills p's role, consumer and filter axis by following the value
// forward through pass-through ops to the first op that gives it a role.
func (ix *graphIndex) classify(p *Param) {
	if !p.DType.IsFloat() {
		p.Role = RoleInteger
		return
	}
	var best *Param
	var walk func(name string, shape []int64, steps []viewStep, depth int)
	walk = func(name string, shape []int64, steps []viewStep, depth int) {
		if depth > 16 {
			return
		}
		for _, u := range ix.consumers[name] {
			op := u.node.GetOpType()
			if u.node.GetDomain() != "" && u.node.GetDomain() != "ai.onnx" {
				continue
			}
			if passThrough[op] && u.input == 0 && len(u.node.GetOutput()) > 0 {
				step, ok := ix.viewStep(u.node, shape)
				if !ok {
					// The shape after this op is unknown: follow it, but no
					// filter axis can be mapped back through it.
					step = viewStep{op: op, in: shape}
				}
				walk(u.node.GetOutput()[0], step.out, append(steps[:len(steps):len(steps)], step), depth+1)
				continue
			}
			cand := *p
			cand.Consumer, cand.ConsumerNode, cand.ConsumerIndex = op, u.node.Label(), u.index
			cand.Role = ix.roleAt(u, len(shape), p.Constant)
			if cand.Role == "" {
				continue
			}
			for _, s := range steps {
				cand.Via = append(cand.Via, s.op)
			}
			switch cand.Role {
			case RoleWeight:
				cand.FilterAxis, cand.FilterView = mapAxisBack(weightAxis(u, len(shape)), p.Shape, steps)
			case RoleEmbedding:
				cand.FilterAxis, cand.FilterView = mapAxisBack(rowAxis(u, len(shape)), p.Shape, steps)
			}
			if best == nil || rank(cand.Role) < rank(best.Role) || rank(cand.Role) == rank(best.Role) && cand.ConsumerIndex < best.ConsumerIndex {
				best = &cand
			}
		}
	}
	walk(p.Name, p.Shape, nil, 0)
	if best == nil {
		p.Role = RoleOther
	} else {
		*p = *best
	}
	// A trained bias is never a single number; an epsilon added is.
	if p.Constant && (p.Role == RoleOther || p.Role == RoleBias && p.Size() <= 1) {
		p.Role = RoleConstant
	}
}

// rank orders roles when a tensor has several uses: a weight use wins.
func rank(r Role) int {
	if r == RoleWeight {
		return 0
	}
	if r == RoleOther {
		return 2
	}
	return 1
}

// roleAt returns the role a value gets from being input u, given its rank
// there and whether it is a Constant node's value; "" when the use says
// nothing.
func (ix *graphIndex) roleAt(u use, rankAtUse int, constant bool) Role {
	n := u.node
	switch n.GetOpType() {
	case "Conv", "ConvTranspose":
		switch u.input {
		case 1:
			return RoleWeight
		case 2:
			return RoleBias
		}
	case "Gemm":
		switch u.input {
		case 1:
			return RoleWeight
		case 0:
			// A stored A with a computed B: the weight is on the left.
			if ix.stored(inputAt(n, 1)) == nil {
				return RoleWeight
			}
		case 2:
			return RoleBias
		}
	case "MatMul":
		if u.input == 1 || ix.stored(inputAt(n, 1)) == nil && !ix.isComputedFromStored(inputAt(n, 1)) {
			return RoleWeight
		}
	case "BatchNormalization":
		return [...]Role{"", RoleBNScale, RoleBNBias, RoleBNMean, RoleBNVar}[min(u.input, 4)]
	case "InstanceNormalization", "LayerNormalization", "GroupNormalization":
		switch u.input {
		case 1:
			return RoleNormScale
		case 2:
			return RoleNormBias
		}
	case "Mul":
		if ix.isNormalized(otherInput(u)) {
			return RoleNormScale
		}
	case "Add":
		if ix.isNormalized(otherInput(u)) || ix.isNormScaled(otherInput(u)) {
			return RoleNormBias
		}
		if rankAtUse <= 1 || rankAtUse == 4 && ix.isBroadcastBias(u) {
			return RoleBias
		}
		// [T, D] or [1, T, D]; a rank-4 map added to feature maps is no table.
		if (rankAtUse == 2 || rankAtUse == 3) && !constant && ix.isTable(u) {
			return RoleEmbedding
		}
	case "Sub":
		if rankAtUse <= 1 || rankAtUse == 4 && ix.isBroadcastBias(u) {
			return RoleBias
		}
	case "Gather":
		if u.input == 0 && !constant {
			return RoleEmbedding
		}
	case "Concat":
		if rankAtUse >= 2 && !constant {
			return RoleEmbedding
		}
	case "Expand":
		// A class token broadcast over the batch, then joined to the tokens.
		if u.input == 0 && !constant && rankAtUse >= 2 && len(u.node.GetOutput()) == 1 {
			for _, c := range ix.consumers[u.node.GetOutput()[0]] {
				if c.node.GetOpType() == "Concat" {
					return RoleEmbedding
				}
			}
		}
	}
	return RoleOther
}

// rowAxis returns the axis of an embedding table, in the shape its consumer
// sees (rank r), whose slices are its rows: the indexed axis of a Gather,
// otherwise the position axis (the second-to-last, before the width).
func rowAxis(u use, r int) int {
	if u.node.GetOpType() == "Gather" {
		a := int(u.node.AttrInt("axis", 0))
		if a < 0 {
			a += r
		}
		if a < 0 || a >= r {
			return -1
		}
		return a
	}
	if r < 2 {
		return -1
	}
	return r - 2
}

// otherInput returns the other operand of the binary node of u.
func otherInput(u use) string { return inputAt(u.node, 1-min(u.input, 1)) }

// isTable reports whether the value added at u is a table of rows rather
// than a broadcast bias: more than one axis longer than 1, and its sum not
// an attention score (a mask added before a Softmax is not trained).
func (ix *graphIndex) isTable(u use) bool {
	if t := ix.stored(u.node.GetInput()[u.input]); t != nil {
		big := 0
		for _, d := range t.GetDims() {
			if d > 1 {
				big++
			}
		}
		if big <= 1 {
			return false
		}
	}
	for _, c := range ix.consumers[u.node.GetOutput()[0]] {
		if c.node.GetOpType() == "Softmax" {
			return false
		}
	}
	return true
}

// computedBy returns the node that computes name, looking through Cast and
// Identity; nil for a stored or graph-input value.
func (ix *graphIndex) computedBy(name string) *onnxpb.NodeProto {
	for range 8 {
		n := ix.producer(name)
		if n == nil || n.GetDomain() != "" && n.GetDomain() != "ai.onnx" {
			return nil
		}
		if op := n.GetOpType(); op != "Cast" && op != "Identity" {
			return n
		}
		name = inputAt(n, 0)
	}
	return nil
}

// isNormalized reports whether name is an activation divided by its root
// mean square, the core of a LayerNorm or RMSNorm written out in primitive
// ops: x / Sqrt(ReduceMean(..) + eps), or x times Reciprocal(Sqrt(..)),
// 1 / Sqrt(..) or Pow(.., -0.5).
func (ix *graphIndex) isNormalized(name string) bool {
	n := ix.computedBy(name)
	if n == nil {
		return false
	}
	switch n.GetOpType() {
	case "Div":
		return ix.isRootMean(inputAt(n, 1))
	case "Mul":
		return ix.isInvRootMean(inputAt(n, 0)) || ix.isInvRootMean(inputAt(n, 1))
	}
	return false
}

// isNormScaled reports whether name is a normalised activation times a
// stored scale, so that a stored value added to it is the shift.
func (ix *graphIndex) isNormScaled(name string) bool {
	n := ix.computedBy(name)
	if n == nil || n.GetOpType() != "Mul" {
		return false
	}
	a, b := inputAt(n, 0), inputAt(n, 1)
	return ix.isNormalized(a) && ix.storedBehind(b) || ix.isNormalized(b) && ix.storedBehind(a)
}

// storedBehind reports whether name is stored or a view of a stored value.
func (ix *graphIndex) storedBehind(name string) bool {
	return ix.stored(name) != nil || ix.isComputedFromStored(name)
}

// isInvRootMean reports whether name is 1 / Sqrt(mean + eps) in one of the
// ways exporters write it.
func (ix *graphIndex) isInvRootMean(name string) bool {
	n := ix.computedBy(name)
	if n == nil {
		return false
	}
	switch n.GetOpType() {
	case "Reciprocal":
		return ix.isRootMean(inputAt(n, 0))
	case "Div":
		return ix.stored(inputAt(n, 0)) != nil && ix.isRootMean(inputAt(n, 1))
	case "Pow":
		return ix.stored(inputAt(n, 1)) != nil && ix.isMean(inputAt(n, 0))
	}
	return false
}

// isRootMean reports whether name is Sqrt(mean + eps).
func (ix *graphIndex) isRootMean(name string) bool {
	n := ix.computedBy(name)
	return n != nil && n.GetOpType() == "Sqrt" && ix.isMean(inputAt(n, 0))
}

// isMean reports whether name is a ReduceMean, or one plus a stored epsilon.
func (ix *graphIndex) isMean(name string) bool {
	n := ix.computedBy(name)
	if n == nil {
		return false
	}
	switch n.GetOpType() {
	case "ReduceMean":
		return true
	case "Add":
		a, b := inputAt(n, 0), inputAt(n, 1)
		if ix.stored(b) == nil {
			a, b = b, a
		}
		if m := ix.computedBy(a); ix.stored(b) != nil && m != nil {
			return m.GetOpType() == "ReduceMean"
		}
	}
	return false
}

// isComputedFromStored is a conservative check used for MatMul operands: it
// reports whether name is produced by a pass-through op from a stored tensor.
func (ix *graphIndex) isComputedFromStored(name string) bool {
	// A malformed graph may loop: give up after as many steps as nodes.
	for steps := len(ix.m.graph().GetNode()); steps >= 0; steps-- {
		n := ix.producer(name)
		if n == nil || !passThrough[n.GetOpType()] || len(n.GetInput()) == 0 {
			return false
		}
		name = n.GetInput()[0]
		if ix.stored(name) != nil {
			return true
		}
	}
	return false
}

// producer returns the node that outputs name, or nil.
func (ix *graphIndex) producer(name string) *onnxpb.NodeProto { return ix.producers[name] }

// inputAt returns input i of n, or "" when n has fewer inputs.
func inputAt(n *onnxpb.NodeProto, i int) string {
	if i < len(n.GetInput()) {
		return n.GetInput()[i]
	}
	return ""
}

// isBroadcastBias reports whether a rank-4 value added at u is a per-channel
// bias (shape [1, C, 1, 1] or [1, 1, 1, C]).
func (ix *graphIndex) isBroadcastBias(u use) bool {
	t := ix.stored(u.node.GetInput()[u.input])
	if t == nil {
		return true
	}
	big := 0
	for _, d := range t.GetDims() {
		if d > 1 {
			big++
		}
	}
	return big <= 1
}

// weightAxis returns the filter axis of a weight in the shape its consumer
// sees (rank r): the axis whose index is the output unit.
func weightAxis(u use, r int) int {
	n := u.node
	switch n.GetOpType() {
	case "Conv":
		return 0
	case "ConvTranspose":
		// W is [C, M/group, k...]: the output channel is axis 1.
		return 1
	case "Gemm":
		if u.input == 1 {
			if n.AttrInt("transB", 0) != 0 {
				return 0 // B is [N, K]
			}
			return 1 // B is [K, N]
		}
		if n.AttrInt("transA", 0) != 0 {
			return 1 // A is [K, M]
		}
		return 0
	case "MatMul":
		if r < 2 {
			return -1
		}
		if u.input == 1 {
			return r - 1 // [..., K, N]: one column per output unit
		}
		return r - 2 // a stored left operand [M, K]: one row per output unit
	}
	return -1
}

// mapAxisBack maps an axis of the consumer's view back through the
// pass-through steps to an axis of the stored tensor. When a reshape mixes
// the axis with others but every step before it keeps the row-major order of
// the data, the filters are still well defined: it returns the axis in the
// shape after that reshape, and that shape as view. Otherwise it returns -1.
func mapAxisBack(axis int, stored []int64, steps []viewStep) (int, []int64) {
	for i := len(steps) - 1; i >= 0 && axis >= 0; i-- {
		s := steps[i]
		switch {
		case s.out == nil || s.in == nil:
			return -1, nil
		case s.op == "Identity" || s.op == "Cast":
		case s.op == "Transpose":
			if axis >= len(s.perm) {
				return -1, nil
			}
			axis = int(s.perm[axis])
		default:
			b := reshapeAxis(axis, s.in, s.out)
			if b < 0 {
				for _, before := range steps[:i] {
					if before.op == "Transpose" || before.out == nil {
						return -1, nil
					}
				}
				return axis, s.out
			}
			axis = b
		}
	}
	if axis >= len(stored) {
		return -1, nil
	}
	return axis, nil
}

// reshapeAxis finds the axis of in whose indices select the same elements
// as the indices of axis a of out, when in is reshaped (row-major) to out.
func reshapeAxis(a int, in, out []int64) int {
	if a < 0 || a >= len(out) {
		return -1
	}
	before := NumElements(out[:a])
	for b := range in {
		if NumElements(in[:b]) == before && in[b] == out[a] {
			return b
		}
	}
	return -1
}

// viewStep computes the output shape of pass-through node n given the input
// shape; ok is false when it cannot be known statically.
func (ix *graphIndex) viewStep(n *onnxpb.NodeProto, in []int64) (viewStep, bool) {
	s := viewStep{op: n.GetOpType(), in: in}
	if in == nil {
		return s, false
	}
	switch s.op {
	case "Identity", "Cast":
		s.out = in
	case "Transpose":
		perm := []int64(nil)
		if a := n.Attr("perm"); a != nil {
			perm = a.GetInts()
		} else {
			for i := len(in) - 1; i >= 0; i-- {
				perm = append(perm, int64(i))
			}
		}
		if len(perm) != len(in) {
			return s, false
		}
		s.perm = perm
		for _, p := range perm {
			if p < 0 || int(p) >= len(in) {
				return s, false
			}
			s.out = append(s.out, in[p])
		}
	case "Flatten":
		axis := n.AttrInt("axis", 1)
		if axis < 0 {
			axis += int64(len(in))
		}
		if axis < 0 || axis > int64(len(in)) {
			return s, false
		}
		s.out = []int64{NumElements(in[:axis]), NumElements(in[axis:])}
	case "Reshape":
		if len(n.GetInput()) < 2 {
			return s, false
		}
		target := ix.ints(n.GetInput()[1])
		if target == nil {
			return s, false
		}
		allowZero := n.AttrInt("allowzero", 0) != 0
		out := make([]int64, len(target))
		infer := -1
		known := int64(1)
		for i, d := range target {
			switch {
			case d == 0 && !allowZero:
				if i >= len(in) {
					return s, false
				}
				out[i] = in[i]
			case d == -1:
				if infer >= 0 {
					return s, false
				}
				infer = i
				continue
			case d < 0:
				return s, false
			default:
				out[i] = d
			}
			known *= out[i]
		}
		if infer >= 0 {
			if known == 0 {
				return s, false
			}
			out[infer] = NumElements(in) / known
		}
		if NumElements(out) != NumElements(in) {
			return s, false
		}
		s.out = out
	case "Squeeze", "Unsqueeze":
		axes := []int64(nil)
		if a := n.Attr("axes"); a != nil {
			axes = a.GetInts()
		} else if len(n.GetInput()) > 1 {
			if axes = ix.ints(n.GetInput()[1]); axes == nil {
				return s, false
			}
		}
		s.out = SqueezeShape(s.op, in, axes)
		if s.out == nil {
			return s, false
		}
	default:
		return s, false
	}
	return s, true
}

// SqueezeShape returns the shape that a Squeeze (op "Squeeze") or an Unsqueeze
// (any other op) with the given axes makes of shape in; nil when a squeezed
// axis is not 1.
func SqueezeShape(op string, in, axes []int64) []int64 {
	if op == "Squeeze" {
		drop := make(map[int64]bool)
		for _, a := range axes {
			if a < 0 {
				a += int64(len(in))
			}
			drop[a] = true
		}
		out := []int64{}
		for i, d := range in {
			if (len(axes) == 0 && d == 1) || drop[int64(i)] {
				if d != 1 {
					return nil
				}
				continue
			}
			out = append(out, d)
		}
		return out
	}
	r := int64(len(in) + len(axes))
	ins := make(map[int64]bool)
	for _, a := range axes {
		if a < 0 {
			a += r
		}
		ins[a] = true
	}
	out := make([]int64, 0, r)
	j := 0
	for i := int64(0); i < r; i++ {
		if ins[i] {
			out = append(out, 1)
			continue
		}
		if j >= len(in) {
			return nil
		}
		out = append(out, in[j])
		j++
	}
	return out
}

// storedTensors returns every tensor stored in the main graph by value name:
// the initializers and the values of Constant nodes (attribute value).
func (m *Model) storedTensors() map[string]*onnxpb.TensorProto {
	ix := newGraphIndex(m)
	out := make(map[string]*onnxpb.TensorProto, len(ix.inits)+len(ix.constants))
	for name, t := range ix.constants {
		out[name] = t
	}
	for name, t := range ix.inits {
		out[name] = t
	}
	return out
}
