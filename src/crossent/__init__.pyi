from ._functions import (
    binary_cross_entropy as binary_cross_entropy,
)
from ._functions import (
    binary_cross_entropy_with_grad as binary_cross_entropy_with_grad,
)
from ._functions import (
    binary_logistic_grad_hess as binary_logistic_grad_hess,
)
from ._functions import (
    categorical_cross_entropy as categorical_cross_entropy,
)
from ._functions import (
    categorical_cross_entropy_with_grad as categorical_cross_entropy_with_grad,
)

__version__: str
backend: str

def show_config() -> None: ...
