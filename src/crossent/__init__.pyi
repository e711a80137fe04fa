from ._accumulator import LossAccumulator as LossAccumulator
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
from ._functions import (
    log_loss as log_loss,
)
from ._log_loss import InvalidParameterError as InvalidParameterError

__version__: str

backend: str

def show_config() -> None: ...
