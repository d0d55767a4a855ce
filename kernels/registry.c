/* registry.c - the table of every op onyx implements, looked up by name at
 * load. Each kernel file exports `const onyx_op onyx_op_<Name>`; an op not in
 * this table is refused by the loader with its name. */
#include "onyx_kernel.h"

#include <string.h>

/* The core op set of DESIGN.md, one X per op (laid out by hand). */
// clang-format off
#define ONYX_OPS(X)                                                            \
    X(Abs) X(Neg) X(Exp) X(Log) X(Sqrt) X(Reciprocal) X(Sin) X(Cos) X(Tanh)    \
    X(Sigmoid) X(Relu) X(LeakyRelu) X(Elu) X(Selu) X(Celu) X(Softplus)         \
    X(Softsign) X(HardSigmoid) X(HardSwish) X(Erf) X(Floor) X(Ceil) X(Round)   \
    X(Sign) X(Clip) X(PRelu) X(ThresholdedRelu) X(Identity) X(Dropout)         \
    X(Cast) X(Not)                                                             \
    X(Add) X(Sub) X(Mul) X(Div) X(Pow) X(Max) X(Min) X(Sum) X(Mean) X(Equal)   \
    X(Less) X(Greater) X(LessOrEqual) X(GreaterOrEqual) X(Where) X(And) X(Or)  \
    X(MatMul) X(Gemm)                                                          \
    X(Conv) X(ConvTranspose) X(AveragePool) X(MaxPool) X(GlobalAveragePool)    \
    X(GlobalMaxPool) X(BatchNormalization) X(InstanceNormalization)            \
    X(LayerNormalization) X(Pad) X(Resize)                                     \
    X(RNN) X(GRU) X(LSTM)                                                      \
    X(Reshape) X(Flatten) X(Transpose) X(Squeeze) X(Unsqueeze) X(Concat)       \
    X(Split) X(Slice) X(Gather) X(GatherElements) X(Shape) X(Size) X(Expand)   \
    X(Tile) X(ConstantOfShape) X(Constant) X(Range) X(CumSum) X(Trilu)         \
    X(ReduceMean) X(ReduceSum) X(ReduceMax) X(ReduceMin) X(ReduceProd)         \
    X(ReduceL2) X(ReduceSumSquare) X(ReduceLogSumExp) X(ArgMax) X(ArgMin)      \
    X(Softmax) X(LogSoftmax)                                                   \
    X(DFT) X(STFT) X(HannWindow) X(HammingWindow) X(BlackmanWindow)            \
    X(MelWeightMatrix)

/* Beyond the core set (issue 11): the rest of ONNX's node suite, by kind. */
#define ONYX_OPS_INDEXING(X) /* gathers, scatters, reordering, selection */    \
    X(Einsum) X(TopK) X(ScatterElements) X(Scatter) X(ScatterND) X(GatherND)   \
    X(OneHot) X(DepthToSpace) X(SpaceToDepth) X(EyeLike) X(ReverseSequence)    \
    X(Compress) X(NonZero) X(Upsample) X(MaxUnpool) X(Unique)                  \
    X(TfIdfVectorizer)
#define ONYX_OPS_MATH(X)     /* more elementwise math, reductions, losses */   \
    X(Tan) X(Sinh) X(Cosh) X(Asin) X(Acos) X(Atan) X(Asinh) X(Acosh) X(Atanh)  \
    X(Shrink) X(IsInf) X(IsNaN) X(Hardmax) X(ReduceL1) X(ReduceLogSum)         \
    X(MeanVarianceNormalization) X(LRN) X(NegativeLogLikelihoodLoss)           \
    X(SoftmaxCrossEntropyLoss) X(RoiAlign) X(GridSample) X(NonMaxSuppression)  \
    X(Det)
#define ONYX_OPS_QUANT(X)    /* quantized tensors and integer products */      \
    X(QuantizeLinear) X(DequantizeLinear) X(DynamicQuantizeLinear)             \
    X(MatMulInteger) X(QLinearMatMul) X(ConvInteger) X(QLinearConv)
#define ONYX_OPS_DTYPES(X)   /* dtype conversions, integer-only ops */       \
    X(Xor) X(Mod) X(BitShift) X(CastLike)
#define ONYX_OPS_CONTROL(X)  /* If, Loop, Scan: src/engine/control.c */
#define ONYX_OPS_MORE(X)                                                       \
    ONYX_OPS_INDEXING(X) ONYX_OPS_MATH(X) ONYX_OPS_QUANT(X)                    \
    ONYX_OPS_DTYPES(X) ONYX_OPS_CONTROL(X)
// clang-format on

/* Every op is defined by its kernel file: a missing one breaks the link. */
#define ONYX_DECLARE(name) extern const onyx_op onyx_op_##name;
ONYX_OPS(ONYX_DECLARE)
ONYX_OPS_MORE(ONYX_DECLARE)

#define ONYX_ENTRY(name) &onyx_op_##name,
static const onyx_op *const onyx_ops[] = {ONYX_OPS(ONYX_ENTRY)
                                              ONYX_OPS_MORE(ONYX_ENTRY)};

#define ONYX_ONE(name) +1
enum {
    ONYX_CORE_COUNT = 0 ONYX_OPS(ONYX_ONE),
    ONYX_OP_COUNT = ONYX_CORE_COUNT ONYX_OPS_MORE(ONYX_ONE)
};
_Static_assert(sizeof onyx_ops / sizeof onyx_ops[0] == ONYX_OP_COUNT,
               "every op in ONYX_OPS has one table entry");
_Static_assert(ONYX_CORE_COUNT == 101, "the core op set of DESIGN.md");

const onyx_op *onyx_op_find(const char *op_type)
{
    for (int i = 0; i < ONYX_OP_COUNT; i++)
        if (strcmp(onyx_ops[i]->name, op_type) == 0) return onyx_ops[i];
    return NULL;
}
