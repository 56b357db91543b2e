// Autograd: backward, torch.autograd.grad, grad-mode switches and the gradient-reversal function.
#include "common.h"

#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/autograd/grad_mode.h>

namespace mimmx {

// Identity forward, gradient multiplied by -lambda backward (Ganin & Lempitsky's gradient reversal
// layer, used by adversarial debiasing).
struct GradReverse : public torch::autograd::Function<GradReverse> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, double lambda) {
    ctx->saved_data["lambda"] = lambda;
    return x.view_as(x);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    double lambda = ctx->saved_data["lambda"].toDouble();
    return {grads[0].neg() * lambda, at::Tensor()};
  }
};

void RegisterAutograd(Napi::Env env, Napi::Object e) {
  (void)env;
  // backward(t, gradient?, retain_graph, create_graph)
  MIMMX_DEF(e, "backward", {
    const at::Tensor& t = a.tensor(0);
    if (!t.requires_grad()) throw a.error("backward on a tensor that does not require grad (no parameter or input with requiresGrad led to it)");
    c10::optional<at::Tensor> g = a.optTensor(1);
    if (!g && t.numel() != 1) throw a.error("backward without a gradient needs a scalar (one-element) tensor, got " + DescribeTensor(t));
    bool retain = a.boolean(2, false);
    bool create = a.boolean(3, false);
    torch::autograd::backward({t}, g ? torch::autograd::variable_list{*g} : torch::autograd::variable_list{}, retain, create);
    return a.env().Undefined();
  });
  // grad(outputs[], inputs[], grad_outputs?[], retain_graph, create_graph, allow_unused) -> (Tensor|null)[]
  MIMMX_DEF(e, "grad", {
    std::vector<at::Tensor> outputs = a.tensors(0);
    std::vector<at::Tensor> inputs = a.tensors(1);
    std::vector<at::Tensor> grad_outputs;
    if (a.has(2)) grad_outputs = a.tensors(2);
    for (const auto& o : outputs) {
      if (!o.requires_grad()) throw a.error("grad: an output does not require grad");
      if (grad_outputs.empty() && o.numel() != 1) throw a.error("grad without grad_outputs needs scalar outputs, got " + DescribeTensor(o));
    }
    bool create = a.boolean(4, false);
    bool retain = a.has(3) ? a.boolean(3) : create;
    bool allow_unused = a.boolean(5, false);
    auto grads = torch::autograd::grad(outputs, inputs, grad_outputs, retain, create, allow_unused);
    return WrapAll(a.env(), grads);
  });
  MIMMX_DEF(e, "set_grad_enabled", {
    bool prev = at::GradMode::is_enabled();
    at::GradMode::set_enabled(a.boolean(0));
    return Napi::Boolean::New(a.env(), prev);
  });
  MIMMX_DEF(e, "is_grad_enabled", { return Napi::Boolean::New(a.env(), at::GradMode::is_enabled()); });
  MIMMX_OP(e, "grad_reverse", GradReverse::apply(a.tensor(0), a.number(1, 1.0)));
}

}  // namespace mimmx
