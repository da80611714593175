//! Wooppay's error codes (the table at the end of Wooppay's invoice API guide) and the crate's error.

use paybridge_core::Error as CoreError;

macro_rules! error_codes {
    ($($code:literal => $variant:ident, $ru:literal, $en:literal, $retry:literal;)*) => {
        /// An `error_code` from Wooppay's table, with its documented meaning.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $(
                #[doc = concat!(stringify!($code), " — ", $ru, " (", $en, ").")]
                $variant,
            )*
            /// A code the guide does not list, kept.
            Unknown(i64),
        }

        impl ErrorCode {
            /// From the wire value.
            #[must_use]
            pub fn from_code(code: i64) -> Self {
                match code {
                    $($code => Self::$variant,)*
                    other => Self::Unknown(other),
                }
            }

            /// The wire value.
            #[must_use]
            pub fn code(self) -> i64 {
                match self {
                    $(Self::$variant => $code,)*
                    Self::Unknown(c) => c,
                }
            }

            /// The documented meaning in Russian, as the guide writes it.
            #[must_use]
            pub fn meaning_ru(self) -> &'static str {
                match self {
                    $(Self::$variant => $ru,)*
                    Self::Unknown(_) => "Неизвестный код ошибки",
                }
            }

            /// The documented meaning in English (our translation).
            #[must_use]
            pub fn meaning(self) -> &'static str {
                match self {
                    $(Self::$variant => $en,)*
                    Self::Unknown(_) => "undocumented error code",
                }
            }

            /// Whether the same request may succeed later without change: server-side
            /// failures, maintenance, rate limits, unavailable partners.
            #[must_use]
            pub fn retryable(self) -> bool {
                match self {
                    $(Self::$variant => $retry,)*
                    Self::Unknown(_) => false,
                }
            }

            /// Codes that mean the session is missing or expired: log in again, once.
            #[must_use]
            pub fn is_session_error(self) -> bool {
                matches!(self, Self::LoginRequired | Self::NotAuthenticated | Self::AuthKeyExpired)
            }

            /// Every documented code.
            pub const ALL: &'static [ErrorCode] = &[$(Self::$variant,)*];
        }
    };
}

error_codes! {
    1 => InvalidPacketFormat, "Неверный формат пакета", "invalid packet format", false;
    2 => UnknownCommand, "Неизвестная команда", "unknown command", false;
    3 => ServerError, "Ошибка на стороне сервера", "server-side error", true;
    4 => AccessDenied, "Доступ запрещен", "access denied", false;
    5 => LoginRequired, "Необходимо войти в систему", "login required", false;
    11 => ConfirmFailed, "Не удалось подтвердить операцию", "operation could not be confirmed", false;
    12 => TransferFailed, "Перевод не удался", "transfer failed", false;
    13 => CancelFailed, "Не удалось отменить операцию", "operation could not be cancelled", false;
    14 => RefundFailed, "Не удалось произвести возврат платежа", "refund failed", false;
    101 => InvalidCredentials, "Неверные данные при входе в систему", "invalid login credentials", false;
    102 => InsufficientFunds, "Недостаточно средств на счету", "insufficient funds", false;
    103 => UserNotFound, "Пользователь не найден", "user not found", false;
    109 => TransferRequestFailed, "Не удалось отправить запрос на перевод", "transfer request could not be sent", false;
    111 => InvoiceFailed, "Не удалось выставить счёт", "invoice could not be created", false;
    112 => DatabaseUnavailable, "БД недоступна", "database unavailable", true;
    113 => DatabaseError, "Ошибка на стороне БД", "database error", true;
    114 => Maintenance, "Режим обслуживания", "maintenance mode", true;
    156 => InvalidPaymentAmountBeeline, "Неверная сумма платежа (ошибка со стороны Beeline)", "invalid payment amount (Beeline error)", false;
    157 => StartingBalanceUnused, "не использован стартовый баланс 400 тг", "starting balance of 400 KZT not used", false;
    158 => DuplicateRequest, "дублирующийся запрос (повторная попытка списания с номера в течение 5 минут)", "duplicate request (repeated charge of the number within 5 minutes)", false;
    159 => TrustPaymentBalance, "Списание с баланса невозможно (доверительный платеж)", "balance cannot be charged (trust payment)", false;
    165 => PaymentFailed, "Не удалось провести платёж", "payment failed", false;
    213 => UnknownService, "Нет такого сервиса в базе", "no such service", false;
    214 => LimitsExceeded, "Превышены лимиты при создании новой операции", "limits exceeded for a new operation", false;
    215 => ZeroAmount, "Нулевая сумма операции", "zero operation amount", false;
    221 => OperationExists, "Операция уже создана", "operation already created", false;
    222 => ConfirmationCodeTooFrequent, "Слишком частые запросы кода подтверждения операции", "confirmation code requested too often", true;
    223 => InvalidConfirmationCode, "Неверный код подтверждения операции", "invalid confirmation code", false;
    224 => TooManyAttempts, "Превышено количество попыток", "too many attempts", false;
    225 => NotRegisteredInMfs, "номер не зарегистрирован в MFS", "number not registered in MFS", false;
    226 => InsufficientBalance, "недостаточно средств на балансе", "insufficient phone balance", false;
    227 => KcellChargeFailed, "Не удалось списать с баланса Kcell", "Kcell balance could not be charged", false;
    228 => KcellRefundFailed, "Не удалось произвести возврат на баланс Kcell", "Kcell balance refund failed", false;
    229 => TariffForbidsMobileCommerce, "Тариф абонента не позволяет использовать мобильную коммерцию", "subscriber's tariff does not allow mobile commerce", false;
    306 => OperationForbidden, "Операция запрещена", "operation forbidden", false;
    307 => AccountBlocked, "Счет заблокирован", "account blocked", false;
    308 => IpBlocked, "IP пользователя заблокирован", "user IP blocked", false;
    309 => CardWithdrawalError, "Ошибка при создании/проведении вывода на карту", "card withdrawal error", false;
    310 => InvalidCardWithdrawalStatus, "Неверный статус вывода на карту", "invalid card withdrawal status", false;
    311 => CardWithdrawalInProgress, "Вывод на карту в обработке", "card withdrawal in progress", true;
    402 => UnknownPacketType, "Неизвестный тип пакета", "unknown packet type", false;
    403 => PacketParseFailed, "Разбор пакета не удался", "packet could not be parsed", false;
    408 => UnknownMoneyOperation, "Неизвестная денежная операция", "unknown money operation", false;
    409 => UnknownReportType, "Неизвестный тип отчета", "unknown report type", false;
    410 => InvalidPacketStructure, "Некорректная структура пакета", "invalid packet structure", false;
    411 => EmptyRequiredField, "Пустое обязательное поле", "required field empty", false;
    419 => UnknownPaymentType, "Неизвестный тип платежа/перевода", "unknown payment/transfer type", false;
    420 => NegativeNumber, "Передано отрицательное число", "negative number given", false;
    602 => UserNotRegistered, "Пользователь не зарегистрирован", "user not registered", false;
    603 => OperatorNotServed, "Оператор сотовой связи не обслуживается", "mobile operator not served", false;
    606 => NotAuthenticated, "Пользователь не аутентифицирован", "user not authenticated", false;
    607 => AuthKeyExpired, "Истёк срок действия ключа аутентификации", "authentication key expired", false;
    613 => SubjectTypeMismatch, "Тип субъекта не соответствует выполняемой операции", "subject type does not match the operation", false;
    619 => AccountNotFound, "У пользователя не найден счёт", "user account not found", false;
    621 => NoCommission, "Отсутствует комиссия", "no commission configured", false;
    801 => Unclassified, "Неклассифицированная ошибка", "unclassified error", false;
    802 => NotFound, "Не найден счёт/аккаунт/etc", "account/invoice/etc. not found", false;
    803 => InvalidBillingParameter, "В биллинг передан некорректный параметр", "invalid billing parameter", false;
    804 => BillingFieldsNotFound, "Не удалось найти поля биллинга, соответствующие переданным параметрам", "no billing fields match the parameters", false;
    805 => MerchantAccountCheckFailed, "Не прошла проверка аккаунта на стороне мерчанта", "merchant-side account check failed", false;
    806 => InactiveAccount, "Указан неактивный аккаунт", "inactive account", false;
    807 => PaymentForbidden, "Платёж запрещён", "payment forbidden", false;
    808 => PaymentNotFinished, "Платёж не окончен", "payment not finished", true;
    809 => MerchantTechnicalProblems, "Технические проблемы на стороне мерчанта", "technical problems at the merchant", true;
    810 => MerchantUnavailable, "Мерчант временно недоступен", "merchant temporarily unavailable", true;
    811 => AmountTooSmall, "Слишком маленькая сумма платежа", "payment amount too small", false;
    812 => AmountTooLarge, "Слишком большая сумма платежа", "payment amount too large", false;
    813 => InvalidNumberFormat, "Неверный формат номера", "invalid number format", false;
    815 => WithdrawalAlreadyDone, "Операция по выводу средств уже была проведена", "withdrawal already done", false;
    816 => InvalidSecurityCode, "Неверный защитный код", "invalid security code", false;
    817 => CancelledByUser, "Данная операция отменена пользователем", "operation cancelled by the user", false;
}

/// What can go wrong talking to Wooppay.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WoopayError {
    /// Wooppay answered a non-zero `error_code`.
    #[error("Wooppay error {}: {} ({})", .0.code(), .0.meaning(), .0.meaning_ru())]
    Api(ErrorCode),
    /// A requestUrl callback could not be confirmed as paid.
    #[error("callback not confirmed: {0}")]
    NotConfirmed(String),
    /// Invalid input; nothing was sent.
    #[error("invalid input: {0}")]
    Input(String),
    /// The answer could not be decoded.
    #[error("cannot decode Wooppay's answer: {0}")]
    Decode(String),
    /// Transport, timeout, SOAP Fault or configuration problems from the shared layer.
    #[error(transparent)]
    Core(#[from] CoreError),
}

impl WoopayError {
    /// The Wooppay code, for API errors.
    #[must_use]
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Self::Api(c) => Some(*c),
            _ => None,
        }
    }
}

impl From<WoopayError> for CoreError {
    fn from(e: WoopayError) -> Self {
        match e {
            WoopayError::Api(code) => CoreError::Provider {
                code: Some(code.code().to_string()),
                message: code.meaning().to_owned(),
                retryable: code.retryable(),
            },
            WoopayError::NotConfirmed(m) => CoreError::Signature(m),
            WoopayError::Input(m) => CoreError::Input(m),
            WoopayError::Decode(m) => CoreError::Decode(m),
            WoopayError::Core(e) => e,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_code_roundtrips() {
        assert_eq!(ErrorCode::ALL.len(), 71);
        for c in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_code(c.code()), *c);
            assert!(!c.meaning().is_empty() && !c.meaning_ru().is_empty());
        }
        assert_eq!(ErrorCode::from_code(999), ErrorCode::Unknown(999));
        assert_eq!(ErrorCode::from_code(999).code(), 999);
        assert!(ErrorCode::from_code(5).is_session_error());
        assert!(ErrorCode::from_code(606).is_session_error());
        assert!(ErrorCode::from_code(607).is_session_error());
        assert!(ErrorCode::from_code(114).retryable());
        assert!(!ErrorCode::from_code(101).retryable());
        let core: CoreError = WoopayError::Api(ErrorCode::InvalidCredentials).into();
        assert_eq!(core.provider_code(), Some("101"));
        assert!(core.to_string().contains("invalid login credentials"));
    }
}
