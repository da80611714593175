<?php
// A Wooppay merchant as PHP developers write one: PHP's own SoapClient, loading the WSDL the
// simulator serves, its cookie jar carrying the session — then a SoapClient without a WSDL
// (positional `param0`, the session cookie set by hand). Prints one JSON object per step.
//
// Usage: php soapclient_flow.php WSDL_URL REQUEST_URL PAY_URL REFERENCE
[$_, $wsdl, $requestUrl, $payUrl, $reference] = $argv;

function out(string $step, $value): void {
    echo json_encode(['step' => $step, 'value' => $value]), "\n";
}

$client = new SoapClient($wsdl, ['cache_wsdl' => WSDL_CACHE_NONE, 'trace' => 1, 'exceptions' => true]);
out('functions', count($client->__getFunctions()));

$login = $client->core_login(['username' => 'test_merch', 'password' => 'A12345678a', 'captcha' => '']);
out('login', $login->error_code);
$session = $login->response->session;

$invoice = $client->cash_createInvoice([
    'referenceId' => $reference, 'backUrl' => 'https://shop.example/back',
    'requestUrl' => $requestUrl, 'addInfo' => '', 'amount' => 5000.0, 'deathDate' => '',
    'serviceType' => 0, 'description' => 'PHP SoapClient order', 'orderNumber' => 0,
]);
out('invoice', $invoice->error_code);
$id = $invoice->response->operationId;
out('operation_id', $id);

// The payer pays on the sandbox's page.
$paid = file_get_contents($payUrl . '?id=' . $id, false, stream_context_create(['http' => ['method' => 'POST']]));
out('paid', json_decode($paid, true)['paid'] ?? null);

$partial = $client->cash_paymentReturnPartial(['operationId' => $id, 'amount' => 2000.0]);
out('refund_partial', $partial->error_code);
$rest = $client->cash_paymentReturn(['operationId' => $id]);
out('refund_rest', $rest->error_code);
$again = $client->cash_paymentReturnPartial(['operationId' => $id, 'amount' => 1.0]);
out('refund_beyond', $again->error_code);

$data = $client->cash_getOperationData(['operationId' => [$id]]);
out('status', $data->response->records[0]->status);
$ext = $client->cash_getOperationDataExtended(['operationId' => [$id]]);
out('ret_sum', $ext->response->records[0]->retSum);

// Without a WSDL: what PHP sends is `<param0>`, and the session is the cookie set by hand.
$bare = new SoapClient(null, [
    'location' => parse_url($wsdl, PHP_URL_SCHEME) . '://' . parse_url($wsdl, PHP_URL_HOST) . ':' . parse_url($wsdl, PHP_URL_PORT) . '/api/wsd/',
    'uri' => 'urn:XmlControllerwsdl', 'trace' => 1,
]);
$bare->__setCookie('session', $session);
$found = $bare->__soapCall('cash_getOperationDataByExtId', [(object) ['externalId' => $reference, 'type' => 4]]);
out('positional_found', $found->response->id ?? null);
out('positional_sent_param0', strpos($bare->__getLastRequest(), '<param0') !== false);

$out = $client->core_logout([]);
out('logout', $out->error_code);
$after = $client->cash_getBalance([]);
out('after_logout', $after->error_code);
