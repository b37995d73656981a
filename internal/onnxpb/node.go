package onnxpb

// Attr returns the attribute of n called name, or nil.
func (n *NodeProto) Attr(name string) *AttributeProto {
	for _, a := range n.GetAttribute() {
		if a.GetName() == name {
			return a
		}
	}
	return nil
}

// AttrInt returns an integer attribute of n, or def when it is absent.
func (n *NodeProto) AttrInt(name string, def int64) int64 {
	if a := n.Attr(name); a != nil {
		return a.GetI()
	}
	return def
}

// Label names n in messages: its name, else its first output, else its op
// type.
func (n *NodeProto) Label() string {
	if n.GetName() != "" {
		return n.GetName()
	}
	if len(n.GetOutput()) > 0 {
		return n.GetOutput()[0]
	}
	return n.GetOpType()
}
