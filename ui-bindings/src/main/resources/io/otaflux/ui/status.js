// The OtaFlux status page: shows the views the device streams, and asks it to abort.
(function () {
  'use strict';

  var token = document.querySelector('meta[name="otaflux-token"]').content;
  var byId = function (id) { return document.getElementById(id); };
  var abortButton = byId('abort');
  var notice = byId('notice');
  var finished = false;
  var source;

  function text(id, value) {
    byId(id).textContent = value === null || value === undefined || value === '' ? '–' : value;
  }

  function show(view) {
    document.body.dataset.state = view.state;
    document.title = (view.percent === null ? '' : view.percent + '% · ') + view.title + ' · OtaFlux';
    byId('state').textContent = view.state;
    byId('message').textContent = view.message;

    var bar = byId('bar');
    if (view.percent === null) {
      bar.removeAttribute('value');
      byId('percent').textContent = '';
    } else {
      bar.value = view.percent;
      byId('percent').textContent = view.percent + '%';
    }
    text('bytes', view.bytesText);
    text('rate', view.rateText);
    text('eta', view.etaText);

    byId('result').hidden = view.state !== 'done';
    byId('slot').textContent = view.slot || '';
    byId('sha256').textContent = view.sha256 || '';

    var failed = view.state === 'failed' || view.state === 'aborted';
    byId('error').hidden = !failed;
    byId('error-title').textContent = view.state === 'aborted' ? 'Update aborted' : 'Update failed';
    byId('error-text').textContent = view.error || '';

    var warnings = byId('warnings');
    warnings.replaceChildren.apply(warnings, view.warnings.map(function (w) {
      var li = document.createElement('li');
      li.textContent = w;
      return li;
    }));
    warnings.hidden = view.warnings.length === 0;

    if (view.final) {
      finished = true;
      abortButton.disabled = true;
      notice.textContent = '';
      if (source) {
        source.close();
      }
    }
  }

  abortButton.addEventListener('click', function () {
    abortButton.disabled = true;
    notice.textContent = 'Aborting…';
    fetch('abort', { method: 'POST', headers: { 'X-OtaFlux-Token': token }, credentials: 'same-origin' })
      .then(function (response) {
        if (!response.ok) {
          throw new Error('the device refused (HTTP ' + response.status + ')');
        }
      })
      .catch(function (error) {
        if (!finished) {
          abortButton.disabled = false;
          notice.textContent = 'Could not abort: ' + error.message + '.';
        }
      });
  });

  source = new EventSource('events');
  source.onmessage = function (event) {
    show(JSON.parse(event.data));
  };
  source.onopen = function () {
    if (!finished && notice.textContent.indexOf('Connection') === 0) {
      notice.textContent = '';
    }
  };
  source.onerror = function () {
    if (!finished) {
      notice.textContent = 'Connection to the device lost; trying again…';
    }
  };
}());
