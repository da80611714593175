//! Wooppay's error codes (the table at the end of Wooppay's invoice API guide) and the crate's error.

use paybridge_core::Error as CoreError;

paybridge_core::code_table! {
    /// An `error_code` from Wooppay's table, with its documented meaning (the guide's
    /// Russian, and our English translation).
    pub enum ErrorCode {
        1 => InvalidPacketFormat, "Неверный формат пакета", "invalid packet format", retry: false;
        2 => UnknownCommand, "Неизвестная команда", "unknown command", retry: false;
        3 => ServerError, "Ошибка на стороне сервера", "server-side error", retry: true;
        4 => AccessDenied, "Доступ запрещен", "access denied", retry: false;
        5 => LoginRequired, "Необходимо войти в систему", "login required", retry: false;
        11 => ConfirmFailed, "Не удалось подтвердить операцию", "operation could not be confirmed", retry: false;
        12 => TransferFailed, "Перевод не удался", "transfer failed", retry: false;
        13 => CancelFailed, "Не удалось отменить операцию", "operation could not be cancelled", retry: false;
        14 => RefundFailed, "Не удалось произвести возврат платежа", "refund failed", retry: false;
        101 => InvalidCredentials, "Неверные данные при входе в систему", "invalid login credentials", retry: false;
        102 => InsufficientFunds, "Недостаточно средств на счету", "insufficient funds", retry: false;
        103 => UserNotFound, "Пользователь не найден", "user not found", retry: false;
        109 => TransferRequestFailed, "Не удалось отправить запрос на перевод", "transfer request could not be sent", retry: false;
        111 => InvoiceFailed, "Не удалось выставить счёт", "invoice could not be created", retry: false;
        112 => DatabaseUnavailable, "БД недоступна", "database unavailable", retry: true;
        113 => DatabaseError, "Ошибка на стороне БД", "database error", retry: true;
        114 => Maintenance, "Режим обслуживания", "maintenance mode", retry: true;
        156 => InvalidPaymentAmountBeeline, "Неверная сумма платежа (ошибка со стороны Beeline)", "invalid payment amount (Beeline error)", retry: false;
        157 => StartingBalanceUnused, "не использован стартовый баланс 400 тг", "starting balance of 400 KZT not used", retry: false;
        158 => DuplicateRequest, "дублирующийся запрос (повторная попытка списания с номера в течение 5 минут)", "duplicate request (repeated charge of the number within 5 minutes)", retry: false;
        159 => TrustPaymentBalance, "Списание с баланса невозможно (доверительный платеж)", "balance cannot be charged (trust payment)", retry: false;
        165 => PaymentFailed, "Не удалось провести платёж", "payment failed", retry: false;
        213 => UnknownService, "Нет такого сервиса в базе", "no such service", retry: false;
        214 => LimitsExceeded, "Превышены лимиты при создании новой операции", "limits exceeded for a new operation", retry: false;
        215 => ZeroAmount, "Нулевая сумма операции", "zero operation amount", retry: false;
        221 => OperationExists, "Операция уже создана", "operation already created", retry: false;
        222 => ConfirmationCodeTooFrequent, "Слишком частые запросы кода подтверждения операции", "confirmation code requested too often", retry: true;
        223 => InvalidConfirmationCode, "Неверный код подтверждения операции", "invalid confirmation code", retry: false;
        224 => TooManyAttempts, "Превышено количество попыток", "too many attempts", retry: false;
        225 => NotRegisteredInMfs, "номер не зарегистрирован в MFS", "number not registered in MFS", retry: false;
        226 => InsufficientBalance, "недостаточно средств на балансе", "insufficient phone balance", retry: false;
        227 => KcellChargeFailed, "Не удалось списать с баланса Kcell", "Kcell balance could not be charged", retry: false;
        228 => KcellRefundFailed, "Не удалось произвести возврат на баланс Kcell", "Kcell balance refund failed", retry: false;
        229 => TariffForbidsMobileCommerce, "Тариф абонента не позволяет использовать мобильную коммерцию", "subscriber's tariff does not allow mobile commerce", retry: false;
        306 => OperationForbidden, "Операция запрещена", "operation forbidden", retry: false;
        307 => AccountBlocked, "Счет заблокирован", "account blocked", retry: false;
        308 => IpBlocked, "IP пользователя заблокирован", "user IP blocked", retry: false;
        309 => CardWithdrawalError, "Ошибка при создании/проведении вывода на карту", "card withdrawal error", retry: false;
        310 => InvalidCardWithdrawalStatus, "Неверный статус вывода на карту", "invalid card withdrawal status", retry: false;
        311 => CardWithdrawalInProgress, "Вывод на карту в обработке", "card withdrawal in progress", retry: true;
        402 => UnknownPacketType, "Неизвестный тип пакета", "unknown packet type", retry: false;
        403 => PacketParseFailed, "Разбор пакета не удался", "packet could not be parsed", retry: false;
        408 => UnknownMoneyOperation, "Неизвестная денежная операция", "unknown money operation", retry: false;
        409 => UnknownReportType, "Неизвестный тип отчета", "unknown report type", retry: false;
        410 => InvalidPacketStructure, "Некорректная структура пакета", "invalid packet structure", retry: false;
        411 => EmptyRequiredField, "Пустое обязательное поле", "required field empty", retry: false;
        419 => UnknownPaymentType, "Неизвестный тип платежа/перевода", "unknown payment/transfer type", retry: false;
        420 => NegativeNumber, "Передано отрицательное число", "negative number given", retry: false;
        602 => UserNotRegistered, "Пользователь не зарегистрирован", "user not registered", retry: false;
        603 => OperatorNotServed, "Оператор сотовой связи не обслуживается", "mobile operator not served", retry: false;
        606 => NotAuthenticated, "Пользователь не аутентифицирован", "user not authenticated", retry: false;
        607 => AuthKeyExpired, "Истёк срок действия ключа аутентификации", "authentication key expired", retry: false;
        613 => SubjectTypeMismatch, "Тип субъекта не соответствует выполняемой операции", "subject type does not match the operation", retry: false;
        619 => AccountNotFound, "У пользователя не найден счёт", "user account not found", retry: false;
        621 => NoCommission, "Отсутствует комиссия", "no commission configured", retry: false;
        801 => Unclassified, "Неклассифицированная ошибка", "unclassified error", retry: false;
        802 => NotFound, "Не найден счёт/аккаунт/etc", "account/invoice/etc. not found", retry: false;
        803 => InvalidBillingParameter, "В биллинг передан некорректный параметр", "invalid billing parameter", retry: false;
        804 => BillingFieldsNotFound, "Не удалось найти поля биллинга, соответствующие переданным параметрам", "no billing fields match the parameters", retry: false;
        805 => MerchantAccountCheckFailed, "Не прошла проверка аккаунта на стороне мерчанта", "merchant-side account check failed", retry: false;
        806 => InactiveAccount, "Указан неактивный аккаунт", "inactive account", retry: false;
        807 => PaymentForbidden, "Платёж запрещён", "payment forbidden", retry: false;
        808 => PaymentNotFinished, "Платёж не окончен", "payment not finished", retry: true;
        809 => MerchantTechnicalProblems, "Технические проблемы на стороне мерчанта", "technical problems at the merchant", retry: true;
        810 => MerchantUnavailable, "Мерчант временно недоступен", "merchant temporarily unavailable", retry: true;
        811 => AmountTooSmall, "Слишком маленькая сумма платежа", "payment amount too small", retry: false;
        812 => AmountTooLarge, "Слишком большая сумма платежа", "payment amount too large", retry: false;
        813 => InvalidNumberFormat, "Неверный формат номера", "invalid number format", retry: false;
        815 => WithdrawalAlreadyDone, "Операция по выводу средств уже была проведена", "withdrawal already done", retry: false;
        816 => InvalidSecurityCode, "Неверный защитный код", "invalid security code", retry: false;
        817 => CancelledByUser, "Данная операция отменена пользователем", "operation cancelled by the user", retry: false;
    }
    unknown: "Неизвестный код ошибки", "undocumented error code";
}

impl ErrorCode {
    /// Codes that mean the session is missing or expired: log in again, once.
    #[must_use]
    pub fn is_session_error(self) -> bool {
        matches!(
            self,
            Self::LoginRequired | Self::NotAuthenticated | Self::AuthKeyExpired
        )
    }
}

/// What can go wrong talking to Wooppay.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WoopayError {
    /// Wooppay answered a non-zero `error_code`.
    #[error("Wooppay error {}: {} ({})", .0.code(), .0.meaning(), .0.provider_wording())]
    Api(ErrorCode),
    /// A requestUrl callback could not be confirmed as paid.
    #[error("callback not confirmed: {0}")]
    NotConfirmed(String),
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
            assert!(!c.meaning().is_empty() && !c.provider_wording().is_empty());
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
